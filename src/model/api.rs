//! The JSON API's bodies: what a client sends, and what it gets back.
//!
//! **The envelope, decided once.** The user's own routes — signing in,
//! `/api/me`, their inbox and its counts — answer the bare object (`T`):
//! the SPEC fixed them so, and they are what a page or an app reads about
//! the person signed in. The admin and service routes — publishing,
//! stats, history, audit — and the start of a background job answer
//! [`Envelope<T>`], `{"success":true,"data":…}`, the shape the SPEC gives
//! `/api/sse/*`, so that a service calling Herald reads every result the
//! same way. Where the SPEC writes a service door's object bare (an
//! account, a webhook's secret, a user token), the answer is
//! [`FlatEnvelope<T>`]: the envelope, the object's fields also at the top
//! level, so both readings hold. Every refusal, on every route, is one [`ErrorBody`],
//! `{"success":false,"error":"…"}`. The README's API section says the same.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

use super::{Action, CategoryCounts, NotificationView, UserView};

/// `{"success":true,"data":…}`: the answer of the admin and service routes.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Always `true` here; a refusal is an [`ErrorBody`].
    pub success: bool,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Envelope<T> {
        Envelope {
            success: true,
            data,
        }
    }
}

/// The envelope with its object's fields also at the top level:
/// `{"success":true,"data":{"id":1,…},"id":1,…}`. The answer of the
/// service doors whose bodies the SPEC writes bare — a created account,
/// webhook or user token (`POST /api/users`, `/api/webhooks`,
/// `/api/users/{username}/tokens`) and an account read or changed
/// (`GET`/`PATCH /api/users/{username}`) — so that a client written from
/// the SPEC (`body.token`) and one that follows the envelope rule
/// (`body.data.token`) both read it. Only for objects: their field names
/// never include `success` or `data`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlatEnvelope<T> {
    /// Always `true` here; a refusal is an [`ErrorBody`].
    pub success: bool,
    pub data: T,
    /// The same object's fields, beside `success` and `data`.
    #[serde(flatten)]
    pub fields: T,
}

impl<T: Clone> FlatEnvelope<T> {
    pub fn ok(data: T) -> FlatEnvelope<T> {
        FlatEnvelope {
            success: true,
            fields: data.clone(),
            data,
        }
    }
}

/// `{"success":false,"error":"…"}`: every refusal, with a plain message
/// (the detail of an internal failure is logged, never sent).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    pub error: String,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            success: false,
            error: message.into(),
        }
    }
}

// Requests. The publishing ones are also serialised: their parsed form
// (field order fixed here) is what an `Idempotency-Key` is matched against,
// so a field added, renamed or moved changes every key's digest.

/// `POST /api/auth/login`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginBody")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `GET /api/notifications?before=&limit=&category=`.
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PageQuery {
    /// A position: only notifications older than it (a page's `next_before`).
    pub before: Option<i64>,
    /// How many, at most (the server caps it).
    pub limit: Option<i64>,
    /// A category's slug: only that category's notifications (an unknown
    /// one: an empty page). The counts stay the user's whole counts.
    pub category: Option<String>,
}

/// `data` of an admin's event: what every inbox shows.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventData {
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub severity: Option<String>,
    pub link: Option<String>,
    /// A category's slug (created on first use). Absent fields are left
    /// out of the request's digest, so keys sent before they existed
    /// still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The sender's own JSON object (at most 4 KB serialized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
    /// At most two buttons, each `{"label","url"}` (the `link` rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// Optional schedule: RFC 3339 times.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimingBody {
    pub send_at: Option<String>,
    pub expires_at: Option<String>,
}

/// `POST /api/sse/broadcast`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BroadcastBody {
    pub event: Option<String>,
    /// Only users with this role; everyone when absent.
    pub role: Option<String>,
    pub data: EventData,
    #[serde(flatten)]
    pub timing: TimingBody,
}

/// `POST /api/sse/send-to-user`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendToUserBody {
    /// The recipient, by id or by `username` (exactly one of the two).
    /// Absent fields are left out of the request's digest, so keys sent
    /// before `username` existed still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub event: Option<String>,
    pub data: EventData,
    #[serde(flatten)]
    pub timing: TimingBody,
}

// Responses of the user's own routes (bare).

/// `POST /api/auth/login`: the session token (also set as a cookie) and
/// who it is for.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub user: UserView,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("token", &"[redacted]")
            .field("user", &self.user)
            .finish()
    }
}

/// `GET /api/notifications`: newest first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// The badge: unread, muted categories left out (never `critical`).
    pub unread: i64,
    /// Unread per category, muted ones included.
    #[serde(default, skip_serializing_if = "CategoryCounts::is_empty")]
    pub unread_by_category: CategoryCounts,
    /// Pass as `?before=` for the next (older) page; `null` at the end.
    pub next_before: Option<i64>,
}

/// The user's unread count after a change (read-all, archive).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadCount {
    pub unread: i64,
}

/// `POST /api/notifications/{id}/snooze`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnoozeBody {
    /// When it comes back: RFC 3339 with an offset, in the future, at most
    /// 90 days ahead.
    #[cfg_attr(feature = "ssr", schema(example = "2026-12-04T09:00:00+01:00"))]
    pub until: String,
}

/// `POST /api/notifications/archive`: the notifications to archive.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveBody {
    /// 1 to 100 notification ids (duplicates count once).
    pub ids: Vec<i64>,
}

// `data` of the enveloped routes.

/// `GET /api/sse/stats`: open streams, in total and per user id.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStats {
    pub total_clients: usize,
    pub user_clients: BTreeMap<String, usize>,
}

/// `POST /api/exports` (202): the task whose `progress` events follow.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStarted {
    pub task_id: String,
}
