//! Domain events: what use cases announce after they have written to the
//! store. This is the only place that decides how an event looks on the
//! wire (its SSE name, id and data) and whose streams it goes to; use cases
//! never touch SSE and the hub never knows which use case spoke.

use serde_json::json;

use super::hub::{EventName, Frame, Hub, Target};
use crate::model::{NotificationEvent, NotificationView};

/// Which notifications a `notification.read` event covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    Ids(Vec<i64>),
    UpToSeq(i64),
    /// Read and taken out of the inbox.
    Archived(Vec<i64>),
}

#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// A notification was stored for `user_id`.
    NotificationCreated {
        user_id: i64,
        /// Already validated when the announcement was accepted.
        event: EventName,
        notification: NotificationView,
        unread: i64,
    },
    /// Some of a user's notifications were marked read.
    NotificationsRead {
        user_id: i64,
        scope: ReadScope,
        unread: i64,
    },
    /// Notifications left a user's inbox (retracted or expired).
    NotificationsRemoved {
        user_id: i64,
        ids: Vec<i64>,
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

impl DomainEvent {
    /// Applies the event to the hub; returns the stream deliveries queued.
    fn apply(self, hub: &Hub) -> usize {
        match self {
            DomainEvent::NotificationCreated {
                user_id,
                event,
                notification,
                unread,
            } => {
                let seq = notification.seq;
                let data = NotificationEvent {
                    notification,
                    unread,
                };
                hub.publish(
                    &Target::User(user_id),
                    &Frame::new(&event, Some(seq), &data),
                )
            }
            DomainEvent::NotificationsRead {
                user_id,
                scope,
                unread,
            } => {
                let data = match scope {
                    ReadScope::Ids(ids) => json!({ "ids": ids, "unread": unread }),
                    ReadScope::UpToSeq(seq) => json!({ "up_to_seq": seq, "unread": unread }),
                    ReadScope::Archived(ids) => {
                        json!({ "ids": ids, "archived": true, "unread": unread })
                    }
                };
                hub.publish(
                    &Target::User(user_id),
                    &Frame::new(&EventName::NOTIFICATION_READ, None, &data),
                )
            }
            DomainEvent::NotificationsRemoved {
                user_id,
                ids,
                unread,
            } => hub.publish(
                &Target::User(user_id),
                &Frame::new(
                    &EventName::NOTIFICATION_REMOVED,
                    None,
                    &json!({ "ids": ids, "unread": unread }),
                ),
            ),
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
