//! Web Push (docs/escalation.md, "Web Push"): the server's VAPID public key
//! and a browser's subscription, as `PushSubscription.toJSON()` gives it.
//! Fields are optional here so that a missing one is a 400 naming it
//! (`server::domain::push`), not a decoding error.

use serde::{Deserialize, Serialize};

/// `GET /api/push/vapid-public-key`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VapidPublicKey {
    /// base64url (no padding) of the uncompressed P-256 point: the
    /// `applicationServerKey` for `PushManager.subscribe`.
    pub public_key: String,
}

/// `POST /api/push/subscriptions`: `PushSubscription.toJSON()`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscriptionBody {
    /// The push service's URL for this browser (https).
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub keys: Option<PushKeys>,
    /// Sent by browsers (`null` or a time); ignored.
    #[serde(default, rename = "expirationTime", skip_serializing)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<f64>))]
    pub expiration_time: Option<serde_json::Value>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKeys {
    /// base64url of the browser's P-256 public key (65 bytes, uncompressed).
    #[serde(default)]
    pub p256dh: Option<String>,
    /// base64url of the 16-byte authentication secret.
    #[serde(default)]
    pub auth: Option<String>,
}

/// `DELETE /api/push/subscriptions`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEndpointBody {
    #[serde(default)]
    pub endpoint: Option<String>,
}
