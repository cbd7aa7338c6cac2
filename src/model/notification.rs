//! A notification as a user sees it, and a page of their inbox.

use serde::{Deserialize, Serialize};

use super::{Action, CategoryCounts, ChannelHead, Preferences};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity that is not `info`, `warning` or `critical`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a severity (info, warning or critical)")]
pub struct BadSeverity(pub String);

impl std::str::FromStr for Severity {
    type Err = BadSeverity;
    fn from_str(s: &str) -> Result<Severity, BadSeverity> {
        Severity::parse(s).ok_or_else(|| BadSeverity(s.to_string()))
    }
}

/// One notification in a user's inbox; also the `data:` of a `notification`
/// SSE event (with `unread` added there).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    /// Its log position (today the same number as `id`). Named `seq` on the
    /// wire, as the SPEC and existing clients have it.
    #[serde(rename = "seq")]
    pub position: i64,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Its category's slug (stored once, with the announcement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The sender's own JSON object, as sent (at most 4 KB serialized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
    /// At most two buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub read: bool,
}

/// The first page of a user's inbox, as rendered on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<NotificationView>,
    /// The badge: unread, muted categories left out (never `critical`).
    pub unread: i64,
    /// Unread per category (muted ones included): the tabs' counts.
    #[serde(default, skip_serializing_if = "CategoryCounts::is_empty")]
    pub unread_by_category: CategoryCounts,
    /// The log position this page was read at, so the stream can resume
    /// right after it. `last_seq` on the wire (the SPEC's name).
    #[serde(rename = "last_seq")]
    pub last_position: i64,
    /// The last offset of each channel the user is in, at that position:
    /// where the browser's gap check starts.
    #[serde(default)]
    pub channels: Vec<ChannelHead>,
    /// The user's preferences (which categories announce nothing).
    #[serde(default)]
    pub preferences: Preferences,
    /// Demo mode (`HERALD_DEMO`): the page shows the demo-only export card.
    #[serde(default)]
    pub demo: bool,
}
