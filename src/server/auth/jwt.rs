//! Session tokens: HS256 JWTs carrying the user, role and session id.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::model::Role;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id, as a string per RFC 7519.
    pub sub: String,
    pub role: Role,
    /// Session id: a row in `sessions`, so this one token can be revoked.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Accepts only HS256 tokens signed with our key and not expired:
    /// `alg: none` and every other algorithm are rejected by the validation.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "1".into(),
            role: Role::Admin,
            sid: "s".into(),
            iat: 0,
            exp,
        }
    }

    fn far_future() -> i64 {
        4_000_000_000
    }

    #[test]
    fn round_trip() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys.issue(&claims(far_future())).unwrap();
        assert_eq!(keys.verify(&token), Some(claims(far_future())));
    }

    #[test]
    fn rejects_expired_tampered_foreign_and_unsigned_tokens() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let expired = keys.issue(&claims(1)).unwrap();
        assert_eq!(keys.verify(&expired), None);

        let good = keys.issue(&claims(far_future())).unwrap();
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged_payload =
            base64_url(br#"{"sub":"1","role":"admin","sid":"s","iat":0,"exp":4000000000,"x":1}"#);
        parts[1] = &forged_payload;
        assert_eq!(keys.verify(&parts.join(".")), None, "tampered payload");

        let other = JwtKeys::new(b"another-secret-another-secret-!!");
        assert_eq!(
            keys.verify(&other.issue(&claims(far_future())).unwrap()),
            None
        );

        let none_header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let payload =
            base64_url(br#"{"sub":"1","role":"admin","sid":"s","iat":0,"exp":4000000000}"#);
        assert_eq!(
            keys.verify(&format!("{none_header}.{payload}.")),
            None,
            "alg none"
        );
        assert_eq!(keys.verify("garbage"), None);
    }

    fn base64_url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
