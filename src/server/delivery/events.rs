//! Domain events: what use cases announce after they have written to the
//! store. This is the only place that decides how an event looks on the
//! wire (its SSE name, id and data) and whose streams it goes to; use cases
//! never touch SSE and the hub never knows which use case spoke.

use serde::Serialize;
use serde_json::json;

use crate::model::{Channel, NotificationView};
use crate::server::{
    delivery::hub::{EventName, Frame, FrameTemplate, Hub, Target},
    store::{announcements::Removal, log::Entry, notifications::Published},
};

/// Which notifications a `notification.read` event covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    Ids(Vec<i64>),
    /// Everything up to this position.
    UpTo(i64),
    /// Read and taken out of the inbox.
    Archived(Vec<i64>),
}

#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// A notification entry was appended to the log (committed).
    Notified(Published),
    /// A removal entry was appended (retraction or expiry, committed).
    Removed(Removal),
    /// Some of a user's notifications were marked read; `unread` is exact
    /// at that write.
    NotificationsRead {
        user_id: i64,
        scope: ReadScope,
        unread: i64,
    },
    /// Progress of a user's long-running task.
    Progress {
        user_id: i64,
        task_id: String,
        progress: u8,
        status: String,
    },
    /// One session ended (logout): its streams must close.
    SessionRevoked { session_id: String },
    /// A user's access changed (role change, password reset, deletion):
    /// every stream they have must close and reconnect with fresh rights.
    UserAccessRevoked { user_id: i64 },
}

/// The data of a `notification` event before its `unread`.
#[derive(Serialize)]
struct NotificationData<'a> {
    #[serde(flatten)]
    notification: &'a NotificationView,
    ch: &'a Channel,
    off: i64,
}

/// The data of a `notification.removed` event before its `unread`.
#[derive(Serialize)]
struct RemovedData<'a> {
    ids: [i64; 1],
    seq: i64,
    ch: &'a Channel,
    off: i64,
}

/// A notification as a frame, minus the recipient's count.
pub fn notification_frame(published: &Published) -> FrameTemplate {
    FrameTemplate::new(
        &published.event,
        Some(published.entry.position),
        &NotificationData {
            notification: &published.notification,
            ch: &published.entry.channel,
            off: published.entry.offset,
        },
    )
}

/// A removal as a frame, minus the recipient's count.
pub fn removal_frame(entry: &Entry, removes: i64) -> FrameTemplate {
    FrameTemplate::new(
        &EventName::NOTIFICATION_REMOVED,
        Some(entry.position),
        &RemovedData {
            ids: [removes],
            seq: entry.position,
            ch: &entry.channel,
            off: entry.offset,
        },
    )
}

impl DomainEvent {
    /// Applies the event to the hub; returns the stream deliveries queued.
    fn apply(self, hub: &Hub) -> usize {
        match self {
            DomainEvent::Notified(published) => {
                let template = notification_frame(&published);
                let to = &published.entry.channel;
                hub.apply_notification(to, published.entry.position, |unread| {
                    template.with_unread(unread)
                })
            }
            DomainEvent::Removed(removal) => {
                let template = removal_frame(&removal.entry, removal.removes);
                hub.apply_removal(
                    &removal.entry.channel,
                    &removal.entry.channel,
                    removal.entry.position,
                    removal.removes,
                    &removal.readers,
                    |unread| template.with_unread(unread),
                )
            }
            DomainEvent::NotificationsRead {
                user_id,
                scope,
                unread,
            } => {
                let read_all = match &scope {
                    ReadScope::UpTo(position) => Some(*position),
                    _ => None,
                };
                let data = match scope {
                    ReadScope::Ids(ids) => json!({ "ids": ids, "unread": unread }),
                    ReadScope::UpTo(position) => json!({ "up_to_seq": position, "unread": unread }),
                    ReadScope::Archived(ids) => {
                        json!({ "ids": ids, "archived": true, "unread": unread })
                    }
                };
                hub.apply_read(
                    user_id,
                    unread,
                    read_all,
                    &Frame::new(&EventName::NOTIFICATION_READ, None, &data),
                )
            }
            DomainEvent::Progress {
                user_id,
                task_id,
                progress,
                status,
            } => {
                let data =
                    json!({ "task_id": task_id, "progress": progress.min(100), "status": status });
                hub.publish(
                    &Target::User(user_id),
                    &Frame::new(&EventName::PROGRESS, None, &data),
                )
            }
            DomainEvent::SessionRevoked { session_id } => {
                hub.disconnect_session(&session_id);
                0
            }
            DomainEvent::UserAccessRevoked { user_id } => {
                hub.disconnect_user(user_id);
                0
            }
        }
    }
}

/// Fans the events out; returns how many stream deliveries were queued.
pub fn publish(hub: &Hub, events: impl IntoIterator<Item = DomainEvent>) -> usize {
    events.into_iter().map(|event| event.apply(hub)).sum()
}
