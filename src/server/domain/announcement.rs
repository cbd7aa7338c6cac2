//! An announcement as an admin composed it ([`AnnouncementDraft`], raw text)
//! and as the use cases receive it ([`Announcement`], every field checked).
//! [`AnnouncementDraft::parse`] is the only way to make an `Announcement`, so
//! a use case cannot be handed an invalid one. Each refusal is a 400 naming
//! its field.
//!
//! One rule depends on when the request is handled rather than on what it
//! says: a send time must not have passed. [`Announcement::check_timely`]
//! holds it, and the send use case calls it after looking for an
//! `Idempotency-Key`'s first result, so a retry of a scheduled send still gets
//! that result once its time has come.

use crate::{
    model::{
        category::{
            category_slug_ok, ACTIONS_MAX, ACTION_LABEL_MAX, CATEGORY_SLUG_MAX, DATA_MAX_BYTES,
        },
        limits, Action, AppError, EventName, Severity,
    },
    server::domain::at_most,
};

/// How far in the past a `send_at` may be before it is taken for a mistake.
const SEND_AT_SLACK_MS: i64 = 60_000;

/// What an admin composed, as received (not yet validated).
#[derive(Debug, Clone, Default)]
pub struct AnnouncementDraft {
    /// SSE event name; `notification` when absent.
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    pub severity: Option<String>,
    pub link: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` (UTC, as an HTML datetime input sends it).
    pub send_at: Option<String>,
    pub expires_at: Option<String>,
    /// A category's slug; created on first use.
    pub category: Option<String>,
    /// The sender's own JSON object.
    pub data: Option<serde_json::Value>,
    /// At most two buttons.
    pub actions: Vec<Action>,
}

/// A draft that passed every rule: trimmed, defaults filled in, times in unix
/// ms. Read-only; made only by [`AnnouncementDraft::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    event: EventName,
    title: String,
    body: String,
    severity: Severity,
    link: Option<String>,
    send_at: Option<i64>,
    expires_at: Option<i64>,
    category: Option<String>,
    data: Option<serde_json::Value>,
    actions: Vec<Action>,
}

impl AnnouncementDraft {
    /// Every rule that holds whenever the request is handled; the first one
    /// broken is the error, times first.
    pub fn parse(self) -> Result<Announcement, AppError> {
        let send_at = parse_time("send_at", self.send_at.as_deref())?;
        let expires_at = parse_time("expires_at", self.expires_at.as_deref())?;
        if let (Some(send), Some(expiry)) = (send_at, expires_at) {
            if expiry <= send {
                return Err(after_the_send_time());
            }
        }
        let event = parse_event(self.event.as_deref())?;
        let title = self.title.trim().to_string();
        if title.is_empty() {
            return Err(AppError::invalid("title", "is required"));
        }
        at_most("title", &title, limits::TITLE_MAX)?;
        let body = self.body.trim().to_string();
        at_most("body", &body, limits::BODY_MAX)?;
        let severity = match self.severity.as_deref().map(str::trim) {
            None | Some("") => Severity::Info,
            Some(s) => Severity::parse(s).ok_or_else(|| {
                AppError::invalid("severity", "must be info, warning or critical")
            })?,
        };
        let link = match self.link.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(link) => Some(parse_link("link", link)?),
        };
        let category = parse_category(self.category.as_deref())?;
        let data = parse_data(self.data)?;
        let actions = parse_actions(self.actions)?;
        Ok(Announcement {
            event,
            title,
            body,
            severity,
            link,
            send_at,
            expires_at,
            category,
            data,
            actions,
        })
    }
}

impl Announcement {
    /// The times measured against `now` (unix ms): a send time more than a
    /// minute gone is a mistake, and an expiry must still be ahead.
    pub fn check_timely(&self, now: i64) -> Result<(), AppError> {
        if self.send_at.is_some_and(|at| at < now - SEND_AT_SLACK_MS) {
            return Err(AppError::invalid("send_at", "must be in the future"));
        }
        if self.expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(after_the_send_time());
        }
        Ok(())
    }

    pub fn event(&self) -> &EventName {
        &self.event
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    pub fn link(&self) -> Option<&str> {
        self.link.as_deref()
    }

    /// When it goes out (unix ms); now when `None`.
    pub fn send_at(&self) -> Option<i64> {
        self.send_at
    }

    /// When it leaves every inbox (unix ms); never when `None`.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }

    pub fn actions(&self) -> &[Action] {
        &self.actions
    }
}

/// A category slug as a user or admin typed it: trimmed; blank is none.
pub fn parse_category(raw: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(slug) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !category_slug_ok(slug) {
        return Err(AppError::invalid(
            "category",
            format!(
                "must be 1 to {CATEGORY_SLUG_MAX} characters of a-z, 0-9, '-' or '_', starting with a letter"
            ),
        ));
    }
    Ok(Some(slug.to_string()))
}

/// The sender's object, capped so that one announcement cannot bloat every
/// stream and page it travels in.
fn parse_data(raw: Option<serde_json::Value>) -> Result<Option<serde_json::Value>, AppError> {
    let Some(data) = raw.filter(|d| !d.is_null()) else {
        return Ok(None);
    };
    if !data.is_object() {
        return Err(AppError::invalid("data", "must be a JSON object"));
    }
    let size = serde_json::to_vec(&data).map_or(usize::MAX, |b| b.len());
    if size > DATA_MAX_BYTES {
        return Err(AppError::invalid(
            "data",
            format!("must be at most {DATA_MAX_BYTES} bytes as JSON (got {size})"),
        ));
    }
    Ok(Some(data))
}

/// At most two buttons, each a label and a link the inbox may open.
fn parse_actions(raw: Vec<Action>) -> Result<Vec<Action>, AppError> {
    if raw.len() > ACTIONS_MAX {
        return Err(AppError::invalid(
            "actions",
            format!("at most {ACTIONS_MAX} actions"),
        ));
    }
    raw.into_iter()
        .map(|action| {
            let label = action.label.trim().to_string();
            if label.is_empty() {
                return Err(AppError::invalid("actions.label", "is required"));
            }
            at_most("actions.label", &label, ACTION_LABEL_MAX)?;
            let url = parse_link("actions.url", action.url.trim())?;
            Ok(Action { label, url })
        })
        .collect()
}

fn after_the_send_time() -> AppError {
    AppError::invalid("expires_at", "must be after the send time")
}

/// RFC 3339, or the `YYYY-MM-DDTHH:MM[:SS]` of an HTML datetime input, read as UTC.
fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let full = match raw.len() {
        16 => format!("{raw}:00Z"),
        19 => format!("{raw}Z"),
        _ => raw.to_string(),
    };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .map(|t| Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| AppError::invalid(field, "must be a date and time like 2026-11-21T18:30:00Z"))
}

fn parse_event(raw: Option<&str>) -> Result<EventName, AppError> {
    let event = match raw.map(str::trim) {
        None | Some("") => return Ok(EventName::NOTIFICATION),
        Some(raw) => {
            EventName::parse(raw).map_err(|e| AppError::invalid("event", e.to_string()))?
        }
    };
    if is_reserved(&event) {
        return Err(AppError::invalid(
            "event",
            format!("\"{event}\" is reserved for the server"),
        ));
    }
    Ok(event)
}

/// Names the stream itself uses; an admin cannot impersonate them.
fn is_reserved(name: &EventName) -> bool {
    [
        EventName::CONNECTED,
        EventName::PING,
        EventName::NOTIFICATION_READ,
        EventName::NOTIFICATION_REMOVED,
        EventName::RESYNC,
        EventName::PROGRESS,
        EventName::PREFERENCES,
        EventName::EVENT_NAMES,
        EventName::CONSOLE_CHANGED,
    ]
    .iter()
    .any(|reserved| reserved == name)
}

/// Only what the link rule (`model::link_opens`) lets an inbox open: a
/// `javascript:` link would run in every recipient's session.
fn parse_link(field: &str, link: &str) -> Result<String, AppError> {
    at_most(field, link, limits::LINK_MAX)?;
    if !crate::model::link_opens(link) {
        return Err(AppError::invalid(
            field,
            "must be an http(s) URL or a path starting with a single /",
        ));
    }
    Ok(link.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-21T18:30:00Z in unix ms.
    const NOV_21: i64 = 1_795_285_800_000;
    const MINUTE: i64 = 60_000;

    fn draft(title: &str) -> AnnouncementDraft {
        AnnouncementDraft {
            title: title.into(),
            ..AnnouncementDraft::default()
        }
    }

    /// The draft "ok" with one change, parsed.
    fn with(change: impl FnOnce(&mut AnnouncementDraft)) -> Result<Announcement, AppError> {
        let mut d = draft("ok");
        change(&mut d);
        d.parse()
    }

    fn invalid(field: &str, message: &str) -> Result<Announcement, AppError> {
        Err(AppError::invalid(field, message))
    }

    #[test]
    fn a_full_draft_keeps_every_field() {
        let parsed = AnnouncementDraft {
            category: None,
            data: None,
            actions: Vec::new(),
            event: Some(" deploy.done ".into()),
            title: " Deployed ".into(),
            body: " v2 is out \n".into(),
            severity: Some(" warning ".into()),
            link: Some(" /changelog ".into()),
            send_at: Some("2026-11-21T18:30".into()),
            // An hour after the send time, written at another offset.
            expires_at: Some("2026-11-21T20:30:00+01:00".into()),
        }
        .parse()
        .unwrap();
        assert_eq!(parsed.event().as_str(), "deploy.done");
        assert_eq!(parsed.title(), "Deployed");
        assert_eq!(parsed.body(), "v2 is out");
        assert_eq!(parsed.severity(), Severity::Warning);
        assert_eq!(parsed.link(), Some("/changelog"));
        assert_eq!(parsed.send_at(), Some(NOV_21));
        assert_eq!(parsed.expires_at(), Some(NOV_21 + 60 * MINUTE));
    }

    #[test]
    fn defaults_and_trimming() {
        let parsed = draft("  Hello ").parse().unwrap();
        assert_eq!(parsed.event(), &EventName::NOTIFICATION);
        assert_eq!(parsed.title(), "Hello");
        assert_eq!(parsed.body(), "");
        assert_eq!(parsed.severity(), Severity::Info);
        assert_eq!(parsed.link(), None);
        assert_eq!((parsed.send_at(), parsed.expires_at()), (None, None));
        // Blank optional fields are absent ones.
        let blank = with(|d| {
            d.event = Some(" ".into());
            d.severity = Some("".into());
            d.link = Some("  ".into());
            d.send_at = Some(" ".into());
            d.expires_at = Some("".into());
        })
        .unwrap();
        assert_eq!(blank, draft("ok").parse().unwrap());
    }

    #[test]
    fn title_is_required_and_at_most_200_characters() {
        assert_eq!(draft(" \t ").parse(), invalid("title", "is required"));
        assert_eq!(
            draft(&"é".repeat(200))
                .parse()
                .unwrap()
                .title()
                .chars()
                .count(),
            200
        );
        assert_eq!(
            draft(&"x".repeat(201)).parse(),
            invalid("title", "must be at most 200 characters")
        );
    }

    #[test]
    fn body_is_optional_and_at_most_5000_characters() {
        assert!(with(|d| d.body = "b".repeat(5_000)).is_ok());
        assert_eq!(
            with(|d| d.body = "b".repeat(5_001)),
            invalid("body", "must be at most 5000 characters")
        );
    }

    #[test]
    fn severity_is_one_of_three() {
        for (raw, severity) in [
            ("info", Severity::Info),
            ("warning", Severity::Warning),
            (" critical ", Severity::Critical),
        ] {
            let parsed = with(|d| d.severity = Some(raw.into())).unwrap();
            assert_eq!(parsed.severity(), severity, "{raw:?}");
        }
        assert_eq!(
            with(|d| d.severity = Some("loud".into())),
            invalid("severity", "must be info, warning or critical")
        );
    }

    #[test]
    fn event_names_are_checked_and_the_servers_own_are_reserved() {
        let longest = format!("e{}", "x".repeat(63));
        let parsed = with(|d| d.event = Some(longest.clone())).unwrap();
        assert_eq!(parsed.event().as_str(), longest);
        for bad in [
            "bad\nname",
            "bad\rname",
            "1st",
            "has space",
            &format!("{longest}x"),
        ] {
            let err = with(|d| d.event = Some(bad.into())).unwrap_err();
            assert!(
                matches!(&err, AppError::Invalid { field, message }
                    if field == "event" && message.starts_with("event names are 1 to 64")),
                "{bad:?}: {err:?}"
            );
        }
        for reserved in [
            "connected",
            "ping",
            "notification.read",
            "notification.removed",
            "resync",
            "progress",
        ] {
            assert_eq!(
                with(|d| d.event = Some(reserved.into())),
                invalid(
                    "event",
                    &format!("\"{reserved}\" is reserved for the server")
                ),
            );
        }
        // The default name may be given explicitly.
        let explicit = with(|d| d.event = Some("notification".into())).unwrap();
        assert_eq!(explicit.event(), &EventName::NOTIFICATION);
    }

    #[test]
    fn links_cannot_leave_for_another_host_unannounced() {
        let refused = invalid(
            "link",
            "must be an http(s) URL or a path starting with a single /",
        );
        // The rule itself is model::link_opens, tested there; here: the
        // draft applies it, with its field-named error.
        for bad in ["//evil.example", "javascript:alert(1)", "/\n/evil.example"] {
            assert_eq!(with(|d| d.link = Some(bad.into())), refused, "{bad:?}");
        }
        for good in ["/changelog", "https://example.com/a"] {
            let parsed = with(|d| d.link = Some(good.into())).unwrap();
            assert_eq!(parsed.link(), Some(good));
        }
    }

    #[test]
    fn links_are_at_most_2000_characters() {
        let longest = format!("/{}", "a".repeat(1_999));
        assert!(with(|d| d.link = Some(longest.clone())).is_ok());
        assert_eq!(
            with(|d| d.link = Some(format!("{longest}a"))),
            invalid("link", "must be at most 2000 characters")
        );
    }

    #[test]
    fn times_are_rfc_3339_or_a_datetime_input_read_as_utc() {
        for raw in [
            "2026-11-21T18:30",
            "2026-11-21T18:30:00",
            "2026-11-21T18:30:00Z",
            "2026-11-21T19:30:00+01:00",
        ] {
            let parsed = with(|d| d.send_at = Some(raw.into())).unwrap();
            assert_eq!(parsed.send_at(), Some(NOV_21), "{raw:?}");
        }
        let unreadable = "must be a date and time like 2026-11-21T18:30:00Z";
        for bad in [
            "tomorrow",
            "2026-11-21",
            "2026-13-01T00:00",
            "1795285800000",
        ] {
            assert_eq!(
                with(|d| d.send_at = Some(bad.into())),
                invalid("send_at", unreadable)
            );
            assert_eq!(
                with(|d| d.expires_at = Some(bad.into())),
                invalid("expires_at", unreadable)
            );
        }
    }

    #[test]
    fn an_expiry_comes_after_the_send_time() {
        let times = |send: &str, expiry: &str| {
            let (send, expiry) = (send.to_string(), expiry.to_string());
            with(move |d| {
                d.send_at = Some(send);
                d.expires_at = Some(expiry);
            })
        };
        let refused = invalid("expires_at", "must be after the send time");
        assert_eq!(times("2026-11-21T18:30", "2026-11-21T18:29"), refused);
        assert_eq!(times("2026-11-21T18:30", "2026-11-21T18:30"), refused);
        let ok = times("2026-11-21T18:30", "2026-11-21T18:31").unwrap();
        assert_eq!(ok.expires_at(), Some(NOV_21 + MINUTE));
    }

    #[test]
    fn times_are_checked_first() {
        let both_wrong = with(|d| {
            d.title = String::new();
            d.send_at = Some("tomorrow".into());
        });
        assert_eq!(
            both_wrong,
            invalid(
                "send_at",
                "must be a date and time like 2026-11-21T18:30:00Z"
            )
        );
    }

    #[test]
    fn a_send_time_may_be_a_minute_late_and_an_expiry_must_be_ahead() {
        let at = |send_at: Option<i64>, expires_at: Option<i64>| Announcement {
            send_at,
            expires_at,
            ..draft("ok").parse().unwrap()
        };
        let now = NOV_21;
        assert_eq!(at(None, None).check_timely(now), Ok(()));
        assert_eq!(at(Some(now - MINUTE), None).check_timely(now), Ok(()));
        assert_eq!(
            at(Some(now - MINUTE - 1), None).check_timely(now),
            Err(AppError::invalid("send_at", "must be in the future"))
        );
        assert_eq!(at(None, Some(now + 1)).check_timely(now), Ok(()));
        assert_eq!(
            at(None, Some(now)).check_timely(now),
            Err(AppError::invalid(
                "expires_at",
                "must be after the send time"
            ))
        );
    }
    #[test]
    fn categories_are_slugs() {
        let parsed = with(|d| d.category = Some(" deploys ".into())).unwrap();
        assert_eq!(parsed.category(), Some("deploys"));
        assert_eq!(
            with(|d| d.category = Some(" ".into())).unwrap().category(),
            None
        );
        let err = with(|d| d.category = Some("Deploys!".into())).unwrap_err();
        assert!(
            matches!(&err, AppError::Invalid { field, .. } if field == "category"),
            "{err:?}"
        );
    }

    #[test]
    fn data_is_an_object_of_at_most_4_kb() {
        let fits = serde_json::json!({"k": "x".repeat(DATA_MAX_BYTES - 8)});
        assert_eq!(serde_json::to_vec(&fits).unwrap().len(), DATA_MAX_BYTES);
        assert!(with(|d| d.data = Some(fits)).is_ok());
        let over = serde_json::json!({"k": "x".repeat(DATA_MAX_BYTES - 7)});
        let err = with(|d| d.data = Some(over)).unwrap_err();
        assert!(
            matches!(&err, AppError::Invalid { field, .. } if field == "data"),
            "{err:?}"
        );
        assert_eq!(
            with(|d| d.data = Some(serde_json::json!([1]))),
            invalid("data", "must be a JSON object")
        );
        assert_eq!(
            with(|d| d.data = Some(serde_json::Value::Null))
                .unwrap()
                .data(),
            None
        );
    }

    #[test]
    fn at_most_two_actions_with_labels_and_safe_links() {
        let action = |label: &str, url: &str| Action {
            label: label.into(),
            url: url.into(),
        };
        let two =
            with(|d| d.actions = vec![action(" Open ", "/x"), action("Pay", "https://e.x/p")])
                .unwrap();
        assert_eq!(two.actions()[0], action("Open", "/x"));
        assert_eq!(
            with(|d| d.actions = vec![action("a", "/a"); 3]),
            invalid("actions", "at most 2 actions")
        );
        assert_eq!(
            with(|d| d.actions = vec![action(" ", "/a")]),
            invalid("actions.label", "is required")
        );
        assert_eq!(
            with(|d| d.actions = vec![action("x", "javascript:alert(1)")]),
            invalid(
                "actions.url",
                "must be an http(s) URL or a path starting with a single /"
            )
        );
    }
}
