//! The `data:` of each event the stream sends.

use serde::{Deserialize, Serialize};

use super::{Channel, NotificationView};

/// `data:` of the `notification` event. `seq` is the log position (also
/// the SSE `id:`); `ch` and `off` say where it sits in its channel, whose
/// offsets are consecutive: a jump means something was missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    #[serde(flatten)]
    pub notification: NotificationView,
    pub ch: Channel,
    #[serde(default)]
    pub off: i64,
    pub unread: i64,
}

/// `data:` of the `notification.removed` event: the positions that left
/// the inbox (retracted or expired), where the removal sits in its channel,
/// and the user's new unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedEvent {
    pub ids: Vec<i64>,
    /// The removal's own log position (its SSE `id:`).
    #[serde(default)]
    pub seq: i64,
    pub ch: Channel,
    #[serde(default)]
    pub off: i64,
    pub unread: i64,
}

/// `data:` of the `notification.read` event: which notifications were read
/// (by id, or everything up to a seq), whether they were also archived, and
/// the user's new unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub up_to_seq: Option<i64>,
    #[serde(default)]
    pub archived: bool,
    pub unread: i64,
}

/// `data:` of the `progress` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub task_id: String,
    pub progress: u8,
    pub status: String,
}

/// `data:` of the `connected` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedEvent {
    pub client_id: u64,
    pub user_id: i64,
    pub unread: i64,
    pub timestamp: String,
}
