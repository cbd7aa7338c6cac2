//! Channels: the audiences of the event log. An announcement is stored for
//! one channel, its entry is appended to that channel's log, and the hub
//! delivers it to that channel's live users: one idea, one type. Its label
//! (`all`, `role:admin`, `user:42`) is how it is stored and sent.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Role;

/// Who an entry is for: everyone, one role, or one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    All,
    Role(Role),
    User(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a channel is `all`, `role:user`, `role:admin` or `user:<id>`, not {0:?}")]
pub struct BadChannel(pub String);

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Channel::All => f.write_str("all"),
            Channel::Role(role) => write!(f, "role:{}", role.as_str()),
            Channel::User(id) => write!(f, "user:{id}"),
        }
    }
}

impl FromStr for Channel {
    type Err = BadChannel;

    fn from_str(label: &str) -> Result<Channel, BadChannel> {
        let parsed = match label.split_once(':') {
            None if label == "all" => Some(Channel::All),
            Some(("role", role)) => Role::parse(role).map(Channel::Role),
            // Only what Display writes (no sign, no leading zero): one label per channel.
            Some(("user", id)) => id
                .parse()
                .ok()
                .filter(|n: &i64| n.to_string() == id)
                .map(Channel::User),
            _ => None,
        };
        parsed.ok_or_else(|| BadChannel(label.to_string()))
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Channel, D::Error> {
        let label = std::borrow::Cow::<str>::deserialize(deserializer)?;
        label.parse().map_err(serde::de::Error::custom)
    }
}

/// A channel and an offset in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHead {
    pub ch: Channel,
    pub off: i64,
}

/// Labels that are not a channel: the parser's test and the schema's
/// pattern test (`schema.rs`) both refuse them.
#[cfg(test)]
pub(crate) const NOT_LABELS: &[&str] = &[
    "",
    "All",
    "role:",
    "role:root",
    "user:",
    "user:x",
    "user:+1",
    "user:07",
    "user:-0",
    "all:1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_nothing_else_parses() {
        for channel in [
            Channel::All,
            Channel::Role(Role::Admin),
            Channel::Role(Role::User),
            Channel::User(42),
        ] {
            assert_eq!(channel.to_string().parse::<Channel>(), Ok(channel));
            let json = serde_json::to_string(&channel).unwrap();
            assert_eq!(json, format!("\"{channel}\""));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), channel);
        }
        assert_eq!(Channel::Role(Role::Admin).to_string(), "role:admin");
        assert_eq!(Channel::User(42).to_string(), "user:42");
        for bad in NOT_LABELS {
            assert!(bad.parse::<Channel>().is_err(), "{bad:?}");
        }
    }
}
