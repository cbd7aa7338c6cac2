//! What the tabs of one browser say to each other. The relay only carries
//! text; this is the text. The shape (`{"event","data"}`, with `_hello`
//! and `_state`) is kept stable so tabs loaded before and after a deploy
//! still understand each other.

use serde::{Deserialize, Serialize};

use super::{event::STATE_EVENT, Connection};

/// A tab that just joined, asking the leading tab for the stream's state.
const HELLO_EVENT: &str = "_hello";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    Hello,
    /// A stream event as the leading tab received it, or the stream's state.
    Event {
        name: String,
        data: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Wire {
    event: String,
    data: String,
}

impl TabMessage {
    pub fn event(name: &str, data: &str) -> TabMessage {
        TabMessage::Event {
            name: name.to_string(),
            data: data.to_string(),
        }
    }

    pub fn state(connection: Connection) -> TabMessage {
        TabMessage::event(STATE_EVENT, connection.label())
    }

    pub fn encode(&self) -> String {
        let (event, data) = match self {
            TabMessage::Hello => (HELLO_EVENT, ""),
            TabMessage::Event { name, data } => (name.as_str(), data.as_str()),
        };
        serde_json::to_string(&Wire {
            event: event.to_string(),
            data: data.to_string(),
        })
        .unwrap_or_default()
    }

    pub fn decode(text: &str) -> Option<TabMessage> {
        let wire: Wire = serde_json::from_str(text).ok()?;
        Some(if wire.event == HELLO_EVENT {
            TabMessage::Hello
        } else {
            TabMessage::Event {
                name: wire.event,
                data: wire.data,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::inbox::Event;

    #[test]
    fn the_wire_shape_stays_what_older_tabs_send() {
        assert_eq!(
            TabMessage::Hello.encode(),
            r#"{"event":"_hello","data":""}"#
        );
        assert_eq!(
            TabMessage::state(Connection::Offline).encode(),
            r#"{"event":"_state","data":"offline"}"#
        );
        assert_eq!(
            TabMessage::decode(r#"{"event":"resync","data":""}"#),
            Some(TabMessage::event("resync", ""))
        );
        assert_eq!(TabMessage::decode("not json"), None);
    }

    #[test]
    fn a_relayed_state_reads_back_as_that_state() {
        let Some(TabMessage::Event { name, data }) =
            TabMessage::decode(&TabMessage::state(Connection::Reconnecting).encode())
        else {
            panic!("not an event");
        };
        assert_eq!(
            Event::parse(&name, &data),
            Some(Event::State(Connection::Reconnecting))
        );
    }
}
