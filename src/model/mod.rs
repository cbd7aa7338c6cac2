//! Types shared by the server and the browser: what crosses the wire, each
//! written by one end and read by the other from the same definition.
//! Nothing secret lives here, and nothing server-only: this compiles for
//! the browser (wasm) too. The one server-side addition is each type's
//! schema for the API document (`ToSchema` derives behind the `ssr`
//! feature, and `schema.rs`), so the document is generated from these very
//! types and the browser build never compiles it.

pub mod account;
pub mod admin;
pub mod api;
pub mod category;
pub mod channel;
pub mod error;
pub mod events;
pub mod limits;
pub mod link;
pub mod notification;
pub mod push;
#[cfg(feature = "ssr")]
pub mod schema;
pub mod service;
pub mod webhooks;

pub use account::{Role, UserView};
pub use admin::{AnnouncementSummary, AuditEntry, ConsoleView, SentAnnouncement};
pub use api::{Envelope, ErrorBody, FlatEnvelope, StreamStats};
pub use category::{
    Action, Category, CategoryCounts, Clicked, Escalation, Preferences, PreferencesEvent,
    ReadAllBody,
};
pub use channel::{BadChannel, Channel, ChannelHead};
pub use error::AppError;
pub use events::{
    BadEventName, ConnectedEvent, ConsoleChangedEvent, EventName, EventNamesEvent,
    NotificationEntry, NotificationEvent, PingEvent, ProgressEvent, ReadEvent, RemovalEntry,
    RemovedEvent, ResyncEvent, UserProgress, WithUnread,
};
pub use link::link_opens;
pub use notification::{InboxPage, NotificationView, Severity};
pub use service::{AccountView, CreatedKey, KeyView, Scope, StreamTicket, UserToken};
pub use webhooks::{CreatedWebhook, WebhookAttempt, WebhookEvent, WebhookView};

#[cfg(test)]
mod tests;
