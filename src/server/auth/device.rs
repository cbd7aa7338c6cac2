//! Device cookies (OWASP's answer to "an attacker can lock the owner out"):
//! a browser that has signed in to an account gets a long-lived, signed,
//! HttpOnly cookie naming that account. Sign-in attempts that present it are
//! throttled on their own (`login_throttle::Attempt::Device`), so failures
//! from elsewhere — one address or a botnet — never block the owner's own
//! browser. The cookie grants nothing else: it is not a session, and it is
//! checked only at sign-in.
//!
//! Format: `<id>.<mac>.<username>`, where `id` is 128 random bits (hex) and
//! `mac` is HMAC-SHA256 over the id and the username, keyed by a key derived
//! from the JWT secret (hex). One browser remembers the last account it
//! signed in to.

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

use crate::server::auth::cookie_value;

pub const DEVICE_COOKIE: &str = "herald_device";
/// How long a browser stays known without signing in again.
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
}

/// A verified device cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub username: String,
}

impl DeviceCookies {
    /// Derives its own key from the server secret, so a device MAC can never
    /// pass for a session signature or the other way round.
    pub fn new(server_secret: &[u8]) -> DeviceCookies {
        let mut mac = HmacSha256::new_from_slice(server_secret).expect("HMAC takes any key length");
        mac.update(b"herald device cookie key v1");
        DeviceCookies {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, id: &str, username: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b"\0");
        mac.update(username.as_bytes());
        mac
    }

    /// The request's device cookie, if present and signed by us.
    pub fn from_headers(&self, headers: &HeaderMap) -> Option<Device> {
        let value = cookie_value(headers, DEVICE_COOKIE)?;
        let mut parts = value.splitn(3, '.');
        let (id, mac, username) = (parts.next()?, parts.next()?, parts.next()?);
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mac = hex::decode(mac).ok()?;
        self.mac(id, username).verify_slice(&mac).ok()?;
        Some(Device {
            id: id.to_string(),
            username: username.to_string(),
        })
    }

    /// `Set-Cookie` naming `username` on this browser: the known id again,
    /// or a new one.
    pub fn cookie(
        &self,
        known: Option<&Device>,
        username: &str,
        secure: bool,
    ) -> Option<HeaderValue> {
        let id = match known {
            Some(device) if device.username == username => device.id.clone(),
            _ => new_id()?,
        };
        let mac = hex::encode(self.mac(&id, username).finalize().into_bytes());
        let secure = if secure { "; Secure" } else { "" };
        // Only the sign-in doors (under /api) read it; Strict keeps it off
        // every cross-site request.
        HeaderValue::from_str(&format!(
            "{DEVICE_COOKIE}={id}.{mac}.{username}; HttpOnly; SameSite=Strict; Path=/api; Max-Age={MAX_AGE_SECS}{secure}"
        ))
        .ok()
    }
}

fn new_id() -> Option<String> {
    crate::server::random::hex_id(16)
        .map_err(|e| tracing::error!(error = %e, "no randomness for a device id"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    }

    #[test]
    fn round_trips_and_refuses_forgeries() {
        let cookies = DeviceCookies::new(b"secret-secret-secret-secret-secret");
        let set = cookies.cookie(None, "ad.min", true).unwrap();
        let text = set.to_str().unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/api", "Secure"] {
            assert!(text.contains(flag), "{text}");
        }
        let device = cookies.from_headers(&request_with(&set)).unwrap();
        assert_eq!(device.username, "ad.min");
        let again = cookies.cookie(Some(&device), "ad.min", false).unwrap();
        assert_eq!(
            cookies.from_headers(&request_with(&again)),
            Some(device.clone())
        );

        // Another account's name under the same MAC, or another server's key.
        let forged = text.replacen(".ad.min;", ".admin;", 1);
        let forged = HeaderValue::from_str(&forged).unwrap();
        assert_eq!(cookies.from_headers(&request_with(&forged)), None);
        let other = DeviceCookies::new(b"another-secret-another-secret-xx");
        assert_eq!(other.from_headers(&request_with(&set)), None);
        let junk = HeaderValue::from_static("herald_device=zz.zz.admin");
        assert_eq!(cookies.from_headers(&request_with(&junk)), None);
    }
}
