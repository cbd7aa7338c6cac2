//! The stream's events: their names, and the `data:` of each.

use std::{borrow::Cow, fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{limits::EVENT_NAME_MAX, CategoryCounts, Channel, NotificationView};

/// An SSE event name: 1..=64 chars of `[A-Za-z0-9._-]`, starting with a
/// letter. The only way to make one is [`EventName::parse`] (or a constant
/// below), so a name can never carry a line break into the stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventName(Cow<'static, str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event names are 1 to {EVENT_NAME_MAX} characters of letters, digits, '.', '_' or '-', starting with a letter")]
pub struct BadEventName;

impl EventName {
    pub const CONNECTED: EventName = EventName(Cow::Borrowed("connected"));
    pub const PING: EventName = EventName(Cow::Borrowed("ping"));
    pub const NOTIFICATION: EventName = EventName(Cow::Borrowed("notification"));
    pub const NOTIFICATION_READ: EventName = EventName(Cow::Borrowed("notification.read"));
    pub const NOTIFICATION_REMOVED: EventName = EventName(Cow::Borrowed("notification.removed"));
    pub const RESYNC: EventName = EventName(Cow::Borrowed("resync"));
    pub const PROGRESS: EventName = EventName(Cow::Borrowed("progress"));
    pub const PREFERENCES: EventName = EventName(Cow::Borrowed("preferences"));
    /// Admins only: what the console shows changed (`ConsoleChangedEvent`).
    pub const CONSOLE_CHANGED: EventName = EventName(Cow::Borrowed("console.changed"));
    /// Custom event names the page must listen to (`EventNamesEvent`).
    pub const EVENT_NAMES: EventName = EventName(Cow::Borrowed("event.names"));

    pub fn parse(raw: &str) -> Result<EventName, BadEventName> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if first_ok && rest_ok && raw.len() <= EVENT_NAME_MAX {
            Ok(EventName(Cow::Owned(raw.to_string())))
        } else {
            Err(BadEventName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EventName {
    type Err = BadEventName;

    fn from_str(raw: &str) -> Result<EventName, BadEventName> {
        EventName::parse(raw)
    }
}

impl Serialize for EventName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EventName, D::Error> {
        let raw = Cow::<str>::deserialize(deserializer)?;
        EventName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

// The `data:` of each event, in the order a stream sends them. Field names
// are the wire's (the SPEC's): a rename here is a change of contract, which
// the tests in `server::delivery::wire` pin.

/// `data:` of the `connected` event, the first of every stream.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedEvent {
    pub client_id: u64,
    pub user_id: i64,
    /// The badge: unread, muted categories left out (never `critical`).
    pub unread: i64,
    /// Unread per category, muted ones included (the whole map).
    #[serde(default, skip_serializing_if = "CategoryCounts::is_empty")]
    pub unread_by_category: CategoryCounts,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// Custom event names notifications may arrive under: a browser's
    /// `EventSource` must listen to each by name. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

/// `data:` of `console.changed`, sent to admins' streams at most once a
/// second per instance when the console's history, funnel or online
/// numbers changed: the console refetches what it shows.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleChangedEvent {
    /// RFC 3339, UTC.
    pub timestamp: String,
}

/// `data:` of `event.names`: a custom event name the next notification
/// arrives under, sent once per name before its first notification.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventNamesEvent {
    pub names: Vec<String>,
}

/// `data:` of the `ping` keep-alive.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingEvent {
    pub timestamp: String,
}

/// `data:` of `resync`: this client missed something (it lagged, or resumed
/// from where no replay can start) and must refetch its inbox.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncEvent {
    pub reason: String,
    pub timestamp: String,
}

/// The `data:` of an event that ends with its recipient's unread count: the
/// part before it is the same for every recipient, so the server encodes it
/// once per entry and appends each count (`FrameTemplate`); the browser
/// reads the whole.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithUnread<T> {
    #[serde(flatten)]
    pub event: T,
    /// The count of the entry's category after it (absent: uncategorised).
    #[serde(default, skip_serializing_if = "CategoryCounts::is_empty")]
    pub unread_by_category: CategoryCounts,
    /// The badge after it: unread, muted categories left out.
    pub unread: i64,
}

impl<T> WithUnread<T> {
    /// `event` with the badge only (no category moved).
    pub fn new(event: T, unread: i64) -> WithUnread<T> {
        WithUnread {
            event,
            unread_by_category: CategoryCounts::new(),
            unread,
        }
    }
}

/// A notification entry of the log: the notification, and where it sits in
/// its channel (`ch`, `off`); offsets in a channel are consecutive, so a
/// jump means something was missed. Its position (`seq` in the data) is
/// also the SSE `id:`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEntry {
    #[serde(flatten)]
    pub notification: NotificationView,
    pub ch: Channel,
    pub off: i64,
}

/// `data:` of the `notification` event (and of an admin's custom names).
pub type NotificationEvent = WithUnread<NotificationEntry>;

/// A removal entry of the log: the positions that left the inbox
/// (retracted or expired), and where the removal sits in its channel.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalEntry {
    pub ids: Vec<i64>,
    /// The removal's own log position (its SSE `id:`); `seq` on the wire,
    /// as in the `notification` event.
    #[serde(rename = "seq")]
    pub position: i64,
    pub ch: Channel,
    pub off: i64,
}

/// `data:` of the `notification.removed` event.
pub type RemovedEvent = WithUnread<RemovalEntry>;

/// `data:` of the `notification.read` event: which notifications were read
/// (by id, or everything up to a position), whether they were also
/// archived, and the user's new unread count. Every tab of the user gets
/// it; on PostgreSQL it is also the control entry every instance applies.
/// Only what is set is written: `{"ids","unread"}`, `{"up_to_seq","unread"}`
/// or `{"ids","archived":true,"unread"}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<i64>,
    /// `up_to_seq` on the wire (the SPEC's name).
    #[serde(default, rename = "up_to_seq", skip_serializing_if = "Option::is_none")]
    pub up_to_position: Option<i64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
    /// With `up_to_seq`: only this category's notifications were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Unread per category after the read (the whole map).
    #[serde(default, skip_serializing_if = "CategoryCounts::is_empty")]
    pub unread_by_category: CategoryCounts,
    /// Archive-read: every notification read so far left the inbox; those
    /// at or below this position by the read-all watermark, the others by
    /// their own read (a tab drops every item it shows as read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_read_up_to: Option<i64>,
    /// The badge after the read: unread, muted categories left out.
    pub unread: i64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ReadEvent {
    /// These notifications were read.
    pub fn ids(ids: Vec<i64>, unread: i64) -> ReadEvent {
        ReadEvent {
            ids,
            up_to_position: None,
            archived: false,
            category: None,
            unread_by_category: CategoryCounts::new(),
            archived_read_up_to: None,
            unread,
        }
    }

    /// Everything up to `position` was read.
    pub fn up_to(position: i64, unread: i64) -> ReadEvent {
        ReadEvent {
            ids: Vec::new(),
            up_to_position: Some(position),
            archived: false,
            category: None,
            unread_by_category: CategoryCounts::new(),
            archived_read_up_to: None,
            unread,
        }
    }

    /// These were read and taken out of the inbox (archived, or removed).
    pub fn archived(ids: Vec<i64>, unread: i64) -> ReadEvent {
        ReadEvent {
            ids,
            up_to_position: None,
            archived: true,
            category: None,
            unread_by_category: CategoryCounts::new(),
            archived_read_up_to: None,
            unread,
        }
    }

    /// Everything read was archived (the count does not change).
    pub fn archived_read(up_to: i64, unread: i64) -> ReadEvent {
        ReadEvent {
            ids: Vec::new(),
            up_to_position: None,
            archived: true,
            category: None,
            unread_by_category: CategoryCounts::new(),
            archived_read_up_to: Some(up_to),
            unread,
        }
    }
}

/// `data:` of the `progress` event: a user's long-running task.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub task_id: String,
    /// 0 to 100.
    #[cfg_attr(feature = "ssr", schema(maximum = 100))]
    pub progress: u8,
    pub status: String,
}

/// A progress update between instances (PostgreSQL: the `herald_progress`
/// `pg_notify` payload): whose task it is, and the event their streams get.
/// Never sent to a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProgress {
    pub user_id: i64,
    #[serde(flatten)]
    pub progress: ProgressEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_a_strict_alphabet() {
        for good in [
            "notification",
            "notification.read",
            "deploy-done",
            "a",
            "x_1",
        ] {
            assert!(EventName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "evil\nid: 1",
            // A bare CR ends an SSE line as LF does: it would start a field.
            "a\rb",
            "a\r",
            "a\r\nid: 1",
            "a b",
            "1abc",
            ".x",
            "x:y",
            "é",
            &"a".repeat(65),
        ] {
            assert!(EventName::parse(bad).is_err(), "{bad:?}");
            // Nor can one come in through JSON.
            let json = serde_json::to_string(bad).unwrap();
            assert!(serde_json::from_str::<EventName>(&json).is_err(), "{bad:?}");
        }
    }
}
