//! What the admin console shows and gets back.

use serde::{Deserialize, Serialize};

use super::{Channel, Severity, UserView};

/// One line of the admin's history, with its funnel.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementSummary {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    /// Whom it was for.
    pub target: Channel,
    /// `scheduled`, `sent`, `retracted` or `expired`.
    pub status: String,
    pub sender: String,
    pub created_at: String,
    pub send_at: Option<String>,
    pub expires_at: Option<String>,
    pub recipients: i64,
    pub delivered: i64,
    pub read: i64,
    /// Users who clicked one of its actions (each once).
    #[serde(default)]
    pub clicked: i64,
}

/// One line of the audit log.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub created_at: String,
}

/// Everything the admin console shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleView {
    pub history: Vec<AnnouncementSummary>,
    pub audit: Vec<AuditEntry>,
    pub users: Vec<UserView>,
    pub total_streams: usize,
    /// (username, open streams), for users online now.
    pub online: Vec<(String, usize)>,
}

/// What the admin page gets back after sending.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentAnnouncement {
    pub id: i64,
    /// Copies made now; 0 while scheduled.
    pub recipients: i64,
    pub scheduled: bool,
}
