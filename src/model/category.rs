//! Categories, a user's preferences, and the rich parts of a notification
//! (its `data` and its action buttons): the wire types, and the rules both
//! ends apply to them (a category's slug, the size of `data`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// At most this many characters in a category's slug.
pub const CATEGORY_SLUG_MAX: usize = 32;
/// At most this many characters in a category's label.
pub const CATEGORY_LABEL_MAX: usize = 64;
/// At most this many bytes in a notification's `data`, serialized.
pub const DATA_MAX_BYTES: usize = 4 * 1024;
/// At most this many action buttons on a notification.
pub const ACTIONS_MAX: usize = 2;
/// At most this many characters in an action's label.
pub const ACTION_LABEL_MAX: usize = 40;

/// Unread counts per category slug. On `connected`, `notification.read`
/// and `preferences` it is the whole map (a category absent from it has
/// none unread); on `notification` and `notification.removed` it holds
/// the one category the entry changed (others keep their counts).
pub type CategoryCounts = BTreeMap<String, i64>;

/// A slug: 1 to [`CATEGORY_SLUG_MAX`] characters of `a-z`, `0-9`, `-`, `_`,
/// starting with a letter (it is a URL segment, a CSS class and a JSON key).
pub fn category_slug_ok(slug: &str) -> bool {
    let mut chars = slug.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        && slug.len() <= CATEGORY_SLUG_MAX
}

/// The shortest escalation delay a category or a user may ask for (the
/// server's `HERALD_ESCALATE_MIN_SECS` may lower it for tests).
pub const ESCALATE_AFTER_MIN_SECS: u32 = 60;
/// The longest: a week.
pub const ESCALATE_AFTER_MAX_SECS: u32 = 7 * 24 * 3600;

/// Email escalation of a category or of a user (docs/escalation.md): what
/// stays unread, undelivered to any stream, for the delay is emailed.
/// `after_secs` absent: the category's delay (for a user), or the server's
/// `HERALD_ESCALATE_AFTER_SECS`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    #[serde(default = "escalation_on")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_secs: Option<u32>,
}

fn escalation_on() -> bool {
    true
}

impl Default for Escalation {
    fn default() -> Self {
        Escalation {
            enabled: true,
            after_secs: None,
        }
    }
}

impl Escalation {
    /// On, after the default delay.
    pub fn is_default(&self) -> bool {
        *self == Escalation::default()
    }
}

/// A category of notifications, as the inbox's tabs and the console list it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub slug: String,
    pub label: String,
    /// Whether (and after how long) its notifications are escalated by
    /// email; absent: on, after the default delay.
    #[serde(default, skip_serializing_if = "Escalation::is_default")]
    pub escalation: Escalation,
}

/// `PUT /api/categories/{slug}`: an admin creates a category or renames
/// it, and may set its escalation (absent: unchanged, on for a new one).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryLabelBody {
    pub label: String,
    #[serde(default)]
    pub escalation: Option<Escalation>,
}

/// A user's preferences (`GET`/`PUT /api/preferences`): the categories they
/// muted (no toast, no system notification, no badge count; `critical`
/// notifications are never muted) and those they want desktop alerts for.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default)]
    pub muted: Vec<String>,
    #[serde(default)]
    pub desktop: Vec<String>,
    /// Email escalation for this user (`GET` always says; a `PUT` without
    /// it keeps what was saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

impl Preferences {
    pub fn is_muted(&self, category: Option<&str>) -> bool {
        category.is_some_and(|c| self.muted.iter().any(|m| m == c))
    }
}

/// `data:` of the `preferences` event: the user changed their preferences
/// (in some tab); every tab takes them, with the counts under them.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencesEvent {
    #[serde(flatten)]
    pub preferences: Preferences,
    #[serde(default)]
    pub unread_by_category: CategoryCounts,
    /// The badge: unread, muted categories left out (but not `critical`).
    pub unread: i64,
}

/// An action button on a notification: a label and where it goes (the
/// same link rule as a notification's `link`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub label: String,
    pub url: String,
}

/// `POST /api/notifications/read-all`'s optional body: only one category.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadAllBody {
    #[serde(default)]
    pub category: Option<String>,
}

/// `POST /api/notifications/{id}/click`: which action (0 or 1) was clicked.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClickBody {
    #[serde(default)]
    pub action: Option<u8>,
}

/// `POST /api/notifications/{id}/click`: whether this click was the user's
/// first on that notification (only the first counts).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clicked {
    pub first: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lowercase_words() {
        for good in ["deploys", "a", "billing-2", "x_y", &"a".repeat(32)] {
            assert!(category_slug_ok(good), "{good:?}");
        }
        for bad in [
            "",
            "Deploys",
            "2fa",
            "-x",
            "a b",
            "é",
            "a\n",
            &"a".repeat(33),
        ] {
            assert!(!category_slug_ok(bad), "{bad:?}");
        }
    }
}
