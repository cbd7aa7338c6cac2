//! One event as a tab receives it: from its own stream, or relayed by the
//! tab that holds the stream.

use serde::de::DeserializeOwned;

use super::Connection;
use crate::model::{
    CategoryCounts, NotificationEvent, PreferencesEvent, ProgressEvent, ReadEvent, RemovedEvent,
};

/// The stream's events a tab understands; the leading tab listens to
/// exactly these and relays them.
pub const STREAMED_EVENTS: [&str; 7] = [
    "connected",
    "notification",
    "notification.read",
    "notification.removed",
    "progress",
    "resync",
    "preferences",
];

/// Not a stream event: the leading tab telling the others the state of the
/// stream it holds ("live", "reconnecting", …).
pub(super) const STATE_EVENT: &str = "_state";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The stream is open; `unread` when its data could be read.
    Connected {
        unread: Option<i64>,
        /// Every category's count, when its data could be read.
        by_category: Option<CategoryCounts>,
    },
    Notification(NotificationEvent),
    Read(ReadEvent),
    Removed(RemovedEvent),
    Progress(ProgressEvent),
    /// The user saved their preferences (in this tab or another).
    Preferences(PreferencesEvent),
    /// The server could not guarantee this client saw everything.
    Resync,
    /// The leading tab's stream changed state.
    State(Connection),
}

impl Event {
    /// Reads an event by its SSE name and `data:`. `None` for names a tab
    /// ignores and for data it cannot read, which then changes nothing.
    pub fn parse(name: &str, data: &str) -> Option<Event> {
        fn json<T: DeserializeOwned>(data: &str) -> Option<T> {
            serde_json::from_str(data).ok()
        }
        Some(match name {
            "connected" => {
                let connected = json::<crate::model::ConnectedEvent>(data);
                Event::Connected {
                    unread: connected.as_ref().map(|c| c.unread),
                    by_category: connected.map(|c| c.unread_by_category),
                }
            }
            "notification" => Event::Notification(json(data)?),
            "notification.read" => Event::Read(json(data)?),
            "notification.removed" => Event::Removed(json(data)?),
            "progress" => Event::Progress(json(data)?),
            "preferences" => Event::Preferences(json(data)?),
            "resync" => Event::Resync,
            STATE_EVENT => Event::State(Connection::from_label(data)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventName;

    /// The names a tab listens for are the server's (`model::EventName`).
    #[test]
    fn the_names_are_the_servers() {
        let server = [
            EventName::CONNECTED,
            EventName::NOTIFICATION,
            EventName::NOTIFICATION_READ,
            EventName::NOTIFICATION_REMOVED,
            EventName::PROGRESS,
            EventName::RESYNC,
            EventName::PREFERENCES,
        ];
        assert_eq!(STREAMED_EVENTS, server.each_ref().map(EventName::as_str));
    }

    #[test]
    fn every_streamed_name_is_understood() {
        let data = [
            r#"{"client_id":1,"user_id":2,"unread":3,"timestamp":"t"}"#,
            r#"{"id":1,"seq":5,"title":"t","body":"","severity":"info","created_at":"c","read":false,"ch":"all","off":1,"unread":1}"#,
            r#"{"ids":[1],"unread":0}"#,
            r#"{"ids":[1],"seq":6,"ch":"all","off":2,"unread":0}"#,
            r#"{"task_id":"x","progress":50,"status":"running"}"#,
            "",
            r#"{"muted":["deploys"],"desktop":[],"unread":0}"#,
        ];
        for (name, data) in STREAMED_EVENTS.iter().zip(data) {
            assert!(Event::parse(name, data).is_some(), "{name} was ignored");
        }
    }

    #[test]
    fn connected_counts_even_when_its_data_is_unreadable() {
        assert_eq!(
            Event::parse(
                "connected",
                r#"{"client_id":1,"user_id":2,"unread":3,"timestamp":"t"}"#
            ),
            Some(Event::Connected {
                unread: Some(3),
                by_category: Some(CategoryCounts::new())
            })
        );
        assert_eq!(
            Event::parse("connected", "{}"),
            Some(Event::Connected {
                unread: None,
                by_category: None
            })
        );
    }

    #[test]
    fn unreadable_data_and_unknown_names_are_ignored() {
        assert_eq!(Event::parse("notification", "{"), None);
        assert_eq!(
            Event::parse("notification.read", r#"{"ids":[1]}"#),
            None,
            "no unread"
        );
        assert_eq!(Event::parse("deploy.done", "{}"), None);
        assert_eq!(Event::parse(STATE_EVENT, "sleepy"), None);
        assert_eq!(
            Event::parse(STATE_EVENT, "reconnecting"),
            Some(Event::State(Connection::Reconnecting))
        );
    }
}
