//! Signed webhooks (issue 17): what a service registers, what the console
//! lists, and the `data` of each message Herald sends. The endpoint's
//! secret is in [`CreatedWebhook`] only, shown once.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Severity;

/// What an endpoint can subscribe to. `notification.clicked` is sent on a
/// user's first click on one of a notification's actions.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "announcement.sent")]
    AnnouncementSent,
    #[serde(rename = "notification.delivered")]
    NotificationDelivered,
    #[serde(rename = "notification.read")]
    NotificationRead,
    #[serde(rename = "notification.clicked")]
    NotificationClicked,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::AnnouncementSent,
        WebhookEvent::NotificationDelivered,
        WebhookEvent::NotificationRead,
        WebhookEvent::NotificationClicked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::AnnouncementSent => "announcement.sent",
            WebhookEvent::NotificationDelivered => "notification.delivered",
            WebhookEvent::NotificationRead => "notification.read",
            WebhookEvent::NotificationClicked => "notification.clicked",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/webhooks`. The events stay words here and are parsed by the
/// use case, so that an unknown one is a 400 naming `events`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    pub url: String,
    pub events: Vec<String>,
}

/// An endpoint just registered: the only time its secret is seen.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub id: i64,
    /// `whsec_<base64>`: the receiver verifies signatures with it.
    pub secret: String,
}

impl fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// An endpoint as `GET /api/webhooks` and the console list it (no secret).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub created_by: String,
    pub created_at: String,
    /// Messages not yet delivered (the head is being retried).
    pub pending: i64,
    /// The latest delivery attempts, newest first.
    pub recent_attempts: Vec<WebhookAttempt>,
}

/// One try at delivering one message.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    /// The message's `webhook-id`.
    pub message_id: String,
    pub event: String,
    pub at: String,
    /// The endpoint's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why there was no (successful) answer: refused, timed out…
    pub error: Option<String>,
    pub duration_ms: i64,
    pub ok: bool,
}

/// `data` of `announcement.sent`: an announcement went out (now, or when
/// its scheduled time came).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementSentData {
    /// The id `POST /api/sse/broadcast` answered.
    pub id: i64,
    pub event: String,
    pub title: String,
    pub severity: Severity,
    /// `all`, `role:<role>` or `user:<id>`.
    pub target: String,
    pub recipients: i64,
    /// Its position in the log (the stream's `id:`).
    pub position: i64,
}

/// `data` of `notification.read`: one read action of one user (one
/// notification read or archived, or everything up to a position).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationReadData {
    pub user_id: i64,
    pub username: String,
    /// The notifications read (their ids in the inbox API), when one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<i64>,
    /// The announcements they came from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announcement_ids: Vec<i64>,
    /// "Mark all read": everything up to this position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_position: Option<i64>,
    pub archived: bool,
    /// The user's unread count after it.
    pub unread: i64,
}

/// `data` of `notification.clicked`: a user's first click on one of a
/// notification's actions (later clicks of theirs send nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationClickedData {
    pub user_id: i64,
    pub username: String,
    /// The notification (its id in the inbox API).
    pub id: i64,
    pub announcement_id: i64,
    /// Which action: 0 or 1.
    pub action: u8,
}

/// `data` of `notification.delivered`: one batch of the funnel's
/// "delivered" (every second at most), with its counts, never one message
/// per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDeliveredData {
    /// Users whose streams or pages were brought further in this batch.
    pub users: i64,
    pub announcements: Vec<DeliveredCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredCount {
    pub id: i64,
    /// Users who newly received it in this batch.
    pub delivered: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_the_wire_names_both_ways() {
        for event in WebhookEvent::ALL {
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
            assert_eq!(serde_json::from_str::<WebhookEvent>(&json).unwrap(), event);
        }
        assert_eq!(WebhookEvent::parse("notification.opened"), None);
    }

    #[test]
    fn a_created_webhook_keeps_its_secret_out_of_debug() {
        let created = CreatedWebhook {
            id: 3,
            secret: "whsec_c2VjcmV0".into(),
        };
        let shown = format!("{created:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
