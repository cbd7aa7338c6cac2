//! VAPID (RFC 8292): Herald's P-256 key pair identifies it to push
//! services. Browsers subscribe with the public key
//! (`applicationServerKey`); each push request carries a short-lived ES256
//! JWT for the endpoint's origin signed with the private key, and the
//! public key: `Authorization: vapid t=<jwt>, k=<key>`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use p256::{
    ecdsa::{signature::Signer, Signature, SigningKey},
    elliptic_curve::sec1::ToEncodedPoint,
};

/// A JWT lives this long (RFC 8292 allows at most 24 hours).
pub const JWT_TTL_SECS: i64 = 12 * 3600;

#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    /// The public key, base64url of the uncompressed point (65 bytes).
    public: String,
    /// `mailto:` or `https:` contact for the push service's operator.
    subject: Option<String>,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public", &self.public)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why 32 bytes are not a private key.
#[derive(Debug, thiserror::Error)]
#[error("expected the base64url of a 32-byte P-256 private key")]
pub struct BadKey;

impl Vapid {
    /// From the private scalar, base64url (`HERALD_VAPID_PRIVATE_KEY`, or
    /// the generated key file).
    pub fn from_base64(private: &str, subject: Option<String>) -> Result<Vapid, BadKey> {
        let raw = URL_SAFE_NO_PAD
            .decode(private.trim().trim_end_matches('='))
            .map_err(|_| BadKey)?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| BadKey)?;
        let key = SigningKey::from_bytes(&raw.into()).map_err(|_| BadKey)?;
        let public = URL_SAFE_NO_PAD.encode(
            key.verifying_key()
                .as_affine()
                .to_encoded_point(false)
                .as_bytes(),
        );
        Ok(Vapid {
            key,
            public,
            subject,
        })
    }

    /// A fresh private key, base64url (kept in the data dir when no key
    /// is configured).
    pub fn generate() -> Result<String, getrandom::Error> {
        loop {
            let mut raw = [0u8; 32];
            getrandom::getrandom(&mut raw)?;
            // All but ~2^-32 of 32-byte strings are valid scalars.
            if SigningKey::from_bytes(&raw.into()).is_ok() {
                return Ok(URL_SAFE_NO_PAD.encode(raw));
            }
        }
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `audience` (the endpoint's
    /// origin, `https://host[:port]`), valid until `now_secs` + [`JWT_TTL_SECS`].
    pub fn authorization(&self, audience: &str, now_secs: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let mut claims = serde_json::json!({
            "aud": audience,
            "exp": now_secs + JWT_TTL_SECS,
        });
        if let Some(sub) = &self.subject {
            claims["sub"] = sub.clone().into();
        }
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        // JWS ES256: the signature is r || s, 64 bytes (RFC 7518 §3.4).
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!("vapid t={signing_input}.{signature}, k={}", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Verifier, VerifyingKey};

    #[test]
    fn the_header_carries_a_jwt_the_public_key_verifies() {
        let vapid = Vapid::from_base64(
            &Vapid::generate().unwrap(),
            Some("mailto:ops@example.com".into()),
        )
        .unwrap();
        let header = vapid.authorization("https://push.example.net", 1_000);
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (jwt, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, vapid.public_key());
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        key.verify(input.as_bytes(), &sig).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(input.split_once('.').unwrap().1)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_000 + JWT_TTL_SECS);
        assert_eq!(claims["sub"], "mailto:ops@example.com");
    }

    #[test]
    fn a_bad_key_is_refused() {
        assert!(Vapid::from_base64("short", None).is_err());
        assert!(Vapid::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 32]), None).is_err());
        assert!(Vapid::from_base64(&URL_SAFE_NO_PAD.encode([0xffu8; 32]), None).is_err());
    }
}
