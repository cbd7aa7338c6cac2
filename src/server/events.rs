//! Domain events: what use cases announce after they have written to the
//! store. This is the only place that decides how an event looks on the
//! wire (its SSE name, id and data) and whose streams it goes to; use cases
//! never touch SSE and the hub never knows which use case spoke.

use super::hub::{EventName, Frame, Hub, Target};
use crate::model::{NotificationEvent, NotificationView};

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
