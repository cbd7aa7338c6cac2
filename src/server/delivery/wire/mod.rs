//! The stream's wire: every event Herald sends, as a frame built from its
//! model type (`crate::model::events`), the type the browser reads it with.
//! This is the one place that decides an event's name, its `id:` and its
//! `data:`; `hub::frame` only encodes, and nobody writes JSON by hand.

use std::time::Duration;

use crate::model::{
    ConnectedEvent, EventName, NotificationEntry, PingEvent, PreferencesEvent, ProgressEvent,
    ReadEvent, RemovalEntry, ResyncEvent,
};
use crate::server::{
    delivery::hub::{Frame, FrameTemplate},
    store::{
        log::Entry,
        notifications::{Counts, Published},
        now_ms, rfc3339,
    },
};

/// `connected`, first on every stream, with the reconnection delay, every
/// count (the badge, and each category's) and the custom event names known.
pub fn connected(
    client_id: u64,
    user_id: i64,
    counts: &Counts,
    events: Vec<String>,
    retry: Duration,
) -> Frame {
    let data = ConnectedEvent {
        client_id,
        user_id,
        unread: counts.unread,
        unread_by_category: counts.by_category.clone(),
        timestamp: rfc3339(now_ms()),
        events,
    };
    Frame::with_retry(&EventName::CONNECTED, &data, retry)
}

/// `event.names`: the page must listen to `name` before the next frame.
/// The name was parsed into an [`EventName`] at the edge.
pub fn event_names(name: &EventName) -> Frame {
    let data = crate::model::EventNamesEvent {
        names: vec![name.as_str().to_string()],
    };
    Frame::new(&EventName::EVENT_NAMES, None, &data)
}

/// `console.changed`, for admins' streams.
pub fn console_changed() -> Frame {
    let data = crate::model::ConsoleChangedEvent {
        timestamp: rfc3339(now_ms()),
    };
    Frame::new(&EventName::CONSOLE_CHANGED, None, &data)
}

/// The keep-alive, one frame for every stream.
pub fn ping() -> Frame {
    let data = PingEvent {
        timestamp: rfc3339(now_ms()),
    };
    Frame::new(&EventName::PING, None, &data)
}

/// `resync`: the client must refetch, and says why.
pub fn resync(reason: &str) -> Frame {
    let data = ResyncEvent {
        reason: reason.to_string(),
        timestamp: rfc3339(now_ms()),
    };
    Frame::new(&EventName::RESYNC, None, &data)
}

/// A notification entry under its event name, minus the recipient's count
/// (each recipient's frame is the template with their count appended:
/// `model::WithUnread<NotificationEntry>` on the wire).
pub fn notification(published: &Published) -> FrameTemplate {
    let data = NotificationEntry {
        notification: published.notification.clone(),
        ch: published.entry.channel,
        off: published.entry.offset,
    };
    FrameTemplate::new(&published.event, Some(published.entry.position), &data)
}

/// A removal entry, minus the recipient's count (`WithUnread<RemovalEntry>`).
pub fn removal(entry: &Entry, removes: i64) -> FrameTemplate {
    let data = RemovalEntry {
        ids: vec![removes],
        position: entry.position,
        ch: entry.channel,
        off: entry.offset,
    };
    FrameTemplate::new(
        &EventName::NOTIFICATION_REMOVED,
        Some(entry.position),
        &data,
    )
}

/// What a user read, to every tab of theirs.
pub fn read(read: &ReadEvent) -> Frame {
    Frame::new(&EventName::NOTIFICATION_READ, None, read)
}

/// The user's new preferences, to every tab of theirs.
pub fn preferences(preferences: &PreferencesEvent) -> Frame {
    Frame::new(&EventName::PREFERENCES, None, preferences)
}

/// A task's progress, to its owner's tabs; at most 100.
pub fn progress(progress: &ProgressEvent) -> Frame {
    let data = ProgressEvent {
        progress: progress.progress.min(100),
        ..progress.clone()
    };
    Frame::new(&EventName::PROGRESS, None, &data)
}

#[cfg(test)]
mod tests;
