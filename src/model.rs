//! Types shared by the server and the browser. Nothing secret lives here:
//! these are what crosses the wire.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A signed-in user as the UI and the API see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub role: Role,
}

impl UserView {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// One notification in a user's inbox; also the `data:` of a `notification`
/// SSE event (with `unread` added there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    pub seq: i64,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub read: bool,
}

/// The first page of a user's inbox, as rendered on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<NotificationView>,
    pub unread: i64,
    /// The log position this page was read at, so the stream can resume
    /// right after it.
    pub last_seq: i64,
    /// The last offset of each channel the user is in, at that position:
    /// where the browser's gap check starts.
    #[serde(default)]
    pub channels: Vec<ChannelHead>,
}

/// A channel (`all`, `role:admin`, `user:42`) and an offset in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHead {
    pub ch: String,
    pub off: i64,
}

/// `data:` of the `notification` event. `seq` is the log position (also
/// the SSE `id:`); `ch` and `off` say where it sits in its channel, whose
/// offsets are consecutive: a jump means something was missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    #[serde(flatten)]
    pub notification: NotificationView,
    #[serde(default)]
    pub ch: String,
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
    #[serde(default)]
    pub ch: String,
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

/// One line of the admin's history, with its funnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementSummary {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    /// `all`, `role:<role>` or `user:<id>`.
    pub target: String,
    /// `scheduled`, `sent`, `retracted` or `expired`.
    pub status: String,
    pub sender: String,
    pub created_at: String,
    pub send_at: Option<String>,
    pub expires_at: Option<String>,
    pub recipients: i64,
    pub delivered: i64,
    pub read: i64,
}

/// One line of the audit log.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentAnnouncement {
    pub id: i64,
    /// Copies made now; 0 while scheduled.
    pub recipients: i64,
    pub scheduled: bool,
}

/// Errors a server function can return, typed so the UI can show them
/// properly (a field message next to its field, a sign-in prompt, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("wrong username or password")]
    BadCredentials,
    #[error("you need to sign in")]
    Unauthorized,
    #[error("admins only")]
    Forbidden,
    /// Refused whoever is asking (403), with the reason: a cross-site
    /// state change, for one.
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("too many attempts, try again later")]
    RateLimited,
    /// A cap on concurrent work per user (429); the message says which.
    #[error("{0}")]
    LimitReached(String),
    /// A well-formed request that cannot be carried out as asked (e.g. an
    /// `Idempotency-Key` reused with a different body).
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    /// The server is at a capacity limit it set itself; retrying later works.
    #[error("the server is busy, try again shortly")]
    Unavailable,
    #[error("something went wrong on our side")]
    Internal,
    /// Transport or (de)serialization failure reported by the server-fn layer.
    #[error("request failed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        match value {
            // The request's own arguments did not decode (raised on the
            // server): a 400 naming the field, as the JSON routes answer.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                let field = field_named_in(&message).unwrap_or("form").to_string();
                AppError::invalid(&field, message)
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// serde names the field it stopped at in backquotes: ``missing field `id` ``.
fn field_named_in(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('`')?;
    let (field, _) = rest.split_once('`')?;
    (!field.is_empty()).then_some(field)
}

/// Field limits, shared so the form and the server agree.
pub mod limits {
    pub const TITLE_MAX: usize = 200;
    pub const BODY_MAX: usize = 5_000;
    pub const LINK_MAX: usize = 2_000;
    pub const EVENT_NAME_MAX: usize = 64;
}
