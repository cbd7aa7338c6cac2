//! Channels: the audiences of the event log.

use serde::{Deserialize, Serialize};

/// A channel (`all`, `role:admin`, `user:42`) and an offset in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHead {
    pub ch: String,
    pub off: i64,
}
