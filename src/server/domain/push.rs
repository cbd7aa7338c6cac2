//! A browser's push subscription, parsed once at the edge: an endpoint URL
//! Herald may post to and the keys the payload is encrypted with. A bad
//! field is a 400 naming it. (Whether the endpoint's host is private needs
//! a lookup: the use case checks it.)

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use crate::model::{
    push::{PushEndpointBody, PushSubscriptionBody},
    AppError,
};

/// Longer than any push service's endpoint (FCM's are ~200 characters).
pub const ENDPOINT_MAX: usize = 2048;

#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    /// base64url without padding, as stored.
    pub p256dh: String,
    pub auth: String,
}

/// The endpoint only: the keys are never logged.
impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// `allow_http`: an `http://` endpoint is accepted (test setups with
/// `HERALD_WEBHOOK_ALLOW_PRIVATE`); otherwise https only.
pub fn parse(body: PushSubscriptionBody, allow_http: bool) -> Result<Subscription, AppError> {
    let endpoint = parse_endpoint(body.endpoint, allow_http)?;
    let keys = body
        .keys
        .ok_or_else(|| AppError::invalid("keys", "is required"))?;
    let p256dh = decode("keys.p256dh", keys.p256dh)?;
    if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() || p256dh.len() != 65 {
        return Err(AppError::invalid(
            "keys.p256dh",
            "must be an uncompressed P-256 public key (65 bytes, base64url)",
        ));
    }
    let auth = decode("keys.auth", keys.auth)?;
    if auth.len() != 16 {
        return Err(AppError::invalid(
            "keys.auth",
            "must be 16 bytes, base64url",
        ));
    }
    Ok(Subscription {
        endpoint,
        p256dh: URL_SAFE_NO_PAD.encode(p256dh),
        auth: URL_SAFE_NO_PAD.encode(auth),
    })
}

/// The endpoint of `DELETE /api/push/subscriptions` (any string that could
/// have been stored).
pub fn parse_unsubscribe(body: PushEndpointBody) -> Result<String, AppError> {
    let endpoint = body
        .endpoint
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AppError::invalid("endpoint", "is required"))?;
    crate::server::domain::at_most("endpoint", &endpoint, ENDPOINT_MAX)?;
    Ok(endpoint)
}

fn parse_endpoint(endpoint: Option<String>, allow_http: bool) -> Result<String, AppError> {
    let endpoint = endpoint
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AppError::invalid("endpoint", "is required"))?;
    crate::server::domain::at_most("endpoint", &endpoint, ENDPOINT_MAX)?;
    let url = reqwest::Url::parse(&endpoint)
        .map_err(|_| AppError::invalid("endpoint", "must be an absolute https URL"))?;
    let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
    if !scheme_ok || url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid(
            "endpoint",
            "must be an absolute https URL",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::invalid("endpoint", "must not carry credentials"));
    }
    Ok(endpoint)
}

fn decode(field: &str, value: Option<String>) -> Result<Vec<u8>, AppError> {
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::invalid(field, "is required"))?;
    // Browsers send base64url without padding; accept padding too.
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| AppError::invalid(field, "must be base64url"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::push::PushKeys;

    fn body(endpoint: &str, p256dh: &str, auth: &str) -> PushSubscriptionBody {
        PushSubscriptionBody {
            endpoint: Some(endpoint.into()),
            keys: Some(PushKeys {
                p256dh: Some(p256dh.into()),
                auth: Some(auth.into()),
            }),
            expiration_time: None,
        }
    }

    const KEY: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn field(r: Result<Subscription, AppError>) -> String {
        match r.unwrap_err() {
            AppError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_browser_subscription_parses_and_bad_fields_are_named() {
        let ok = parse(
            body("https://push.example.net/wpush/v2/abc", KEY, AUTH),
            false,
        )
        .unwrap();
        assert_eq!(ok.p256dh, KEY);
        assert_eq!(
            field(parse(body("http://push.example.net/x", KEY, AUTH), false)),
            "endpoint"
        );
        assert!(parse(body("http://127.0.0.1:9/x", KEY, AUTH), true).is_ok());
        assert_eq!(
            field(parse(
                body("https://u:p@push.example.net/x", KEY, AUTH),
                false
            )),
            "endpoint"
        );
        assert_eq!(
            field(parse(body("not a url", KEY, AUTH), false)),
            "endpoint"
        );
        assert_eq!(
            field(parse(body("https://p.example/x", "AAAA", AUTH), false)),
            "keys.p256dh"
        );
        assert_eq!(
            field(parse(body("https://p.example/x", "*!", AUTH), false)),
            "keys.p256dh"
        );
        assert_eq!(
            field(parse(body("https://p.example/x", KEY, "AAAA"), false)),
            "keys.auth"
        );
        let missing = PushSubscriptionBody {
            endpoint: Some("https://p.example/x".into()),
            ..Default::default()
        };
        assert_eq!(field(parse(missing, false)), "keys");
        assert_eq!(
            field(parse(PushSubscriptionBody::default(), false)),
            "endpoint"
        );
    }
}
