//! Domain events: what use cases announce after they have written to the
//! store. This is the only place that decides how an event looks on the
//! wire (its SSE name, id and data) and whose streams it goes to; use cases
//! never touch SSE and the hub never knows which use case spoke.

use serde::Serialize;

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
}

impl DomainEvent {
    fn delivery(&self) -> (Target, Frame) {
        match self {
            DomainEvent::NotificationCreated {
                user_id,
                event,
                notification,
                unread,
            } => {
                let data = NotificationEvent {
                    notification: notification.clone(),
                    unread: *unread,
                };
                (
                    Target::User(*user_id),
                    Frame::new(event, Some(notification.seq), &data),
                )
            }
        }
    }
}

/// Fans the events out; returns how many stream deliveries were queued.
pub fn publish(hub: &Hub, events: impl IntoIterator<Item = DomainEvent>) -> usize {
    events
        .into_iter()
        .map(|event| {
            let (target, frame) = event.delivery();
            hub.publish(&target, &frame)
        })
        .sum()
}

/// Frames the stream handler builds itself, not caused by a use case.
pub fn stream_frame(name: &EventName, data: &impl Serialize) -> Frame {
    Frame::new(name, None, data)
}
