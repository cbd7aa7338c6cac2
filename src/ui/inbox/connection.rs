//! The state of this browser's live stream, as shown in the header.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Reconnecting,
    Offline,
}

impl Connection {
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }

    pub fn from_label(label: &str) -> Option<Connection> {
        [
            Connection::Connecting,
            Connection::Live,
            Connection::Reconnecting,
            Connection::Offline,
        ]
        .into_iter()
        .find(|c| c.label() == label)
    }
}

#[cfg(test)]
mod tests {
    use super::Connection;

    #[test]
    fn labels_round_trip_and_unknown_ones_are_refused() {
        for c in [
            Connection::Connecting,
            Connection::Live,
            Connection::Reconnecting,
            Connection::Offline,
        ] {
            assert_eq!(Connection::from_label(c.label()), Some(c));
        }
        assert_eq!(Connection::from_label("Live"), None);
        assert_eq!(Connection::from_label(""), None);
    }
}
