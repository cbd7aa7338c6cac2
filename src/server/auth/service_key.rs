//! Service API keys: `hrld_<public id>_<secret>`, shown once, stored as a
//! SHA-256, checked on every request against the database.
//!
//! - The prefix `hrld_` and the fixed shape (12 hex digits, `_`, 64 hex
//!   digits) let secret scanners recognise a leaked key, and let Herald
//!   refuse a malformed one without touching the database.
//! - The public id finds the row (one lookup on a unique index); the hash
//!   of the whole key is then compared in constant time.
//! - Why SHA-256 and not argon2: argon2 exists to make guessing a *human*
//!   password from its hash expensive. The secret here is 256 random bits,
//!   which no amount of hashing speed makes guessable, so a fast hash
//!   loses nothing — and it keeps a key check a microsecond, where argon2
//!   would cost 19 MiB and tens of milliseconds per request (and hand an
//!   attacker with bad keys a way to burn CPU).
//! - No cache: every request reads the key's row, so a revocation holds at
//!   once on every instance sharing the database. That is the same cost as
//!   a session check (`sessions::active`), one indexed read.
//! - `last_used_at` is written at most about once a minute per key
//!   ([`TOUCH_EVERY`]): only when the row read says it is older than that,
//!   and then conditionally, so other instances' writes count too. Bad keys
//!   never write anything.
//!
//! Limits: a key never reaches a log line (the request span records the
//! URI, never headers; this module logs names, never keys) or a page after
//! the one that created it.

use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    model::{AppError, Scope},
    server::store::{api_keys, Pool},
};

pub const PREFIX: &str = "hrld_";
/// Public id: 6 random bytes, hex.
const PUBLIC_ID_BYTES: usize = 6;
/// Secret: 32 random bytes, hex.
const SECRET_BYTES: usize = 32;
const KEY_LEN: usize = PREFIX.len() + 2 * PUBLIC_ID_BYTES + 1 + 2 * SECRET_BYTES;
/// How stale `last_used_at` may get before a request refreshes it.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A verified, unrevoked service key.
#[derive(Debug, Clone)]
pub struct ServiceKey {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `key:<name>`: how the audit log names it.
    pub label: String,
}

/// A freshly made key: the key (to show once), and what is stored.
pub struct Minted {
    pub key: String,
    pub public_id: String,
    pub secret_hash: String,
}

/// True when a bearer value is meant as a service key (well formed or not):
/// such a value is never tried as a session.
pub fn is_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// The public id of a well-formed key; `None` for anything else.
fn public_id(token: &str) -> Option<&str> {
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let rest = token.strip_prefix(PREFIX)?;
    if token.len() != KEY_LEN {
        return None;
    }
    let (id, secret) = rest.split_at(2 * PUBLIC_ID_BYTES);
    let secret = secret.strip_prefix('_')?;
    (hex(id) && hex(secret)).then_some(id)
}

/// SHA-256 of a bearer secret, hex: what is stored instead of it (keys, stream tickets).
pub(super) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn mint() -> Result<Minted, AppError> {
    let random = |bytes| {
        crate::server::random::hex_id(bytes).map_err(|e| {
            tracing::error!(error = %e, "no randomness for an API key");
            AppError::Internal
        })
    };
    let public_id = random(PUBLIC_ID_BYTES)?;
    let key = format!("{PREFIX}{public_id}_{}", random(SECRET_BYTES)?);
    Ok(Minted {
        secret_hash: digest(&key),
        key,
        public_id,
    })
}

/// The live key this bearer value is, or 401: at once for a malformed one,
/// after one indexed read for an unknown, revoked or wrong one.
pub async fn verify(pool: &Pool, token: &str) -> Result<ServiceKey, AppError> {
    let public_id = public_id(token).ok_or(AppError::Unauthorized)?;
    let row = api_keys::find_live(pool, public_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let matches: bool = digest(token)
        .as_bytes()
        .ct_eq(row.secret_hash.as_bytes())
        .into();
    if !matches {
        return Err(AppError::Unauthorized);
    }
    let every = TOUCH_EVERY.as_millis() as i64;
    let stale = row
        .last_used_at
        .is_none_or(|at| at < crate::server::store::now_ms() - every);
    if stale {
        // A failure here must not refuse a valid key: it only dates its use.
        if let Err(e) = api_keys::touch(pool, row.id, every).await {
            tracing::warn!(key = %row.name, error = %e, "could not record a key's last use");
        }
    }
    Ok(ServiceKey {
        id: row.id,
        label: format!("key:{}", row.name),
        name: row.name,
        scopes: row.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_have_the_shape_the_parser_accepts() {
        let minted = mint().unwrap();
        assert_eq!(minted.key.len(), KEY_LEN);
        assert!(is_key(&minted.key));
        assert_eq!(public_id(&minted.key), Some(minted.public_id.as_str()));
        assert_eq!(minted.secret_hash, digest(&minted.key));
        assert_ne!(mint().unwrap().key, minted.key);
    }

    #[test]
    fn malformed_keys_are_refused_by_shape() {
        let good = mint().unwrap().key;
        let mut upper = good.clone();
        upper.replace_range(KEY_LEN - 1.., "G");
        for bad in [
            "",
            "hrld_",
            &good[..KEY_LEN - 1],
            &format!("{good}0"),
            &good.replacen('_', "-", 2),
            &upper,
            &good.to_uppercase(),
            "eyJhbGciOiJIUzI1NiJ9.e30.x",
        ] {
            assert_eq!(public_id(bad), None, "{bad:?}");
        }
    }
}
