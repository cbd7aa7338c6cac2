//! One event as a tab receives it: from its own stream, or relayed by the
//! tab that holds the stream.

use serde::de::DeserializeOwned;

use super::Connection;
use crate::model::{
    CategoryCounts, ConnectedEvent, EventName, EventNamesEvent, NotificationEvent,
    PreferencesEvent, ProgressEvent, ReadEvent, RemovedEvent,
};

/// The stream's events a tab understands; the leading tab listens to
/// exactly these and relays them.
pub const STREAMED_EVENTS: [&str; 8] = [
    "connected",
    "notification",
    "notification.read",
    "notification.removed",
    "progress",
    "resync",
    "preferences",
    "console.changed",
];

/// Not a stream event: the leading tab telling the others the state of the
/// stream it holds ("live", "reconnecting", …).
pub(super) const STATE_EVENT: &str = "_state";

/// A name the page listens to anyway, or one that is not a notification's.
fn is_fixed(name: &str) -> bool {
    STREAMED_EVENTS.contains(&name)
        || [EventName::EVENT_NAMES, EventName::PING]
            .iter()
            .any(|fixed| fixed.as_str() == name)
        || name == STATE_EVENT
}

/// The custom event names an event tells the page to listen to: those
/// `connected` lists, or the one `event.names` announces. Each is checked
/// to be an event name, and never one of the fixed ones.
pub fn names_to_listen(name: &str, data: &str) -> Vec<String> {
    let names = if name == EventName::CONNECTED.as_str() {
        serde_json::from_str::<ConnectedEvent>(data).map(|c| c.events)
    } else if name == EventName::EVENT_NAMES.as_str() {
        serde_json::from_str::<EventNamesEvent>(data).map(|e| e.names)
    } else {
        return Vec::new();
    };
    names
        .unwrap_or_default()
        .into_iter()
        .filter(|n| EventName::parse(n).is_ok() && !is_fixed(n))
        .collect()
}

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
    /// Admins: what the console shows changed; it refetches.
    ConsoleChanged,
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
            "console.changed" => Event::ConsoleChanged,
            STATE_EVENT => Event::State(Connection::from_label(data)?),
            // An admin's own name (`deploy.done`): the notification shape.
            // The page listens to such names only once the server named
            // them (`connected`, `event.names`), so only those reach here.
            custom if EventName::parse(custom).is_ok() && !is_fixed(custom) => {
                Event::Notification(json(data)?)
            }
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
            EventName::CONSOLE_CHANGED,
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
            r#"{"timestamp":"t"}"#,
        ];
        for (name, data) in STREAMED_EVENTS.iter().zip(data) {
            assert!(Event::parse(name, data).is_some(), "{name} was ignored");
        }
    }

    #[test]
    fn custom_names_are_notifications_and_are_named_by_the_server() {
        let data = r#"{"id":1,"seq":5,"title":"t","body":"","severity":"info","created_at":"c","read":false,"ch":"all","off":1,"unread":1}"#;
        assert!(matches!(
            Event::parse("deploy.done", data),
            Some(Event::Notification(_))
        ));
        assert_eq!(Event::parse("bad name", data), None);
        assert_eq!(
            names_to_listen(
                "connected",
                r#"{"client_id":1,"user_id":2,"unread":3,"timestamp":"t","events":["deploy.done","ping","x\ny"]}"#
            ),
            ["deploy.done"]
        );
        assert_eq!(
            names_to_listen("event.names", r#"{"names":["invoice.paid"]}"#),
            ["invoice.paid"]
        );
        assert!(names_to_listen("notification", data).is_empty());
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
