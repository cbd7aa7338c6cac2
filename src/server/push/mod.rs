//! Outbound Web Push (docs/escalation.md, "Web Push"): the VAPID key
//! (`vapid.rs`), RFC 8291 payload encryption (`ece.rs`), the payload
//! (`payload.rs`) and the one HTTP client that posts a message to a
//! subscription's endpoint. It never retries: the escalation task decides
//! when to try again. Endpoints on private addresses are refused at send
//! time as webhooks are (`webhook::address`), unless allowed.

pub mod ece;
pub mod payload;
pub mod vapid;

use std::{sync::Arc, time::Duration};

use p256::PublicKey;

use crate::server::webhook::sender;
pub use vapid::Vapid;

/// The whole request, answer head included (connecting: the webhooks'
/// `sender::CONNECT_TIMEOUT`, one outbound client shape for both).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a push service keeps a message for a browser that is offline.
pub const TTL_SECS: u32 = 24 * 3600;

/// One subscription as stored: where, and the browser's keys (no
/// `Debug`: the auth secret is never logged).
#[derive(Clone)]
pub struct Target {
    pub id: i64,
    pub endpoint: String,
    pub p256dh: PublicKey,
    pub auth: [u8; 16],
}

/// What one push came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service took it (2xx).
    Sent,
    /// 404 or 410: the subscription is gone for good; delete it.
    Gone,
    /// A 4xx that retrying cannot fix (a key the service refuses, a
    /// payload too large): not retried, the subscription kept.
    Refused(u16),
    /// Unreachable, timed out, 5xx, 429: retried later.
    Failed(String),
}

#[derive(Clone)]
pub struct Pusher {
    client: reqwest::Client,
    vapid: Arc<Vapid>,
    allow_private: bool,
}

impl Pusher {
    pub fn new(vapid: Arc<Vapid>, allow_private: bool) -> Result<Pusher, reqwest::Error> {
        let builder = sender::outbound_client(
            concat!("Herald-Push/", env!("CARGO_PKG_VERSION")),
            SEND_TIMEOUT,
            allow_private,
        );
        Ok(Pusher {
            client: builder.build()?,
            vapid,
            allow_private,
        })
    }

    /// Encrypts `payload` for `to` and posts it. `urgent`: `Urgency: high`
    /// (a critical notification), else `normal`.
    pub async fn send(&self, to: &Target, payload: &[u8], urgent: bool) -> Outcome {
        let url = match reqwest::Url::parse(&to.endpoint) {
            Ok(url) => url,
            Err(_) => return Outcome::Refused(0),
        };
        if sender::refused_literal(&url, self.allow_private).is_some() {
            return Outcome::Refused(0);
        }
        let body = match ece::encrypt(
            &ece::Receiver {
                p256dh: &to.p256dh,
                auth: &to.auth,
            },
            payload,
        ) {
            Ok(body) => body,
            Err(ece::EceError::TooLarge) => return Outcome::Refused(413),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let audience = url.origin().ascii_serialization();
        let now = crate::server::store::now_ms() / 1000;
        let sent = self
            .client
            .post(url)
            .header("Authorization", self.vapid.authorization(&audience, now))
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", TTL_SECS.to_string())
            .header("Urgency", if urgent { "high" } else { "normal" })
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) => Outcome::Failed(sender::describe(e)),
            Ok(res) => outcome_of(res.status().as_u16()),
        }
    }
}

/// RFC 8030 §5-6 and the services' practice: 404/410 mean the
/// subscription expired or was removed; 408, 425 and 429 are "later".
fn outcome_of(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Sent,
        404 | 410 => Outcome::Gone,
        408 | 425 | 429 => Outcome::Failed(format!("the push service answered {status}")),
        400..=499 => Outcome::Refused(status),
        _ => Outcome::Failed(format!("the push service answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_delete_retry_or_give_up() {
        assert_eq!(outcome_of(201), Outcome::Sent);
        assert_eq!(outcome_of(410), Outcome::Gone);
        assert_eq!(outcome_of(404), Outcome::Gone);
        assert_eq!(outcome_of(403), Outcome::Refused(403));
        assert!(matches!(outcome_of(429), Outcome::Failed(_)));
        assert!(matches!(outcome_of(503), Outcome::Failed(_)));
    }
}
