//! `Idempotency-Key`: a client names a request so that retrying it (after a
//! timeout, a dropped connection, a 5xx) cannot do the work twice.
//!
//! - The first successful result is kept for [`KEEP`] (24 h) with a hash of
//!   the request, in the same transaction as the work itself.
//! - The same key (same caller: a user or a service key) returns that result and does nothing else; the
//!   same key on a different request is refused with 422.
//! - Only work that was done is kept: a request refused before it did
//!   anything (a bad field, a rate limit) may be retried with the same key.
//! - Cost: one primary-key lookup per keyed request, one insert when it does
//!   its work. Concurrent requests with one key serialise on the write
//!   transaction; the loser finds the winner's row and answers with it.

use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::{
    model::AppError,
    server::store::{idempotency, now_ms, Pool, StoreError},
};

/// How long a key is remembered.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// Longest key accepted (Stripe's and the IETF draft's usual bound).
pub const KEY_MAX: usize = 255;
pub const HEADER: &str = "Idempotency-Key";

/// A client's key: 1 to [`KEY_MAX`] printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &[u8]) -> Result<IdempotencyKey, AppError> {
        let printable = raw.iter().all(|b| (0x20..=0x7e).contains(b));
        if raw.is_empty() || raw.len() > KEY_MAX || !printable {
            return Err(AppError::invalid(
                HEADER,
                format!("must be 1 to {KEY_MAX} printable ASCII characters"),
            ));
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(raw).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyed request: the key and a digest of what was asked.
#[derive(Debug, Clone)]
pub struct Once {
    key: IdempotencyKey,
    request_hash: String,
}

impl Once {
    /// `route` names the operation, so one key sent to two routes is two
    /// different requests; `request` is the parsed request (its canonical
    /// form: field order fixed by its type, whitespace and unknown fields gone).
    pub fn new(key: IdempotencyKey, route: &str, request: &impl Serialize) -> Once {
        let mut hash = Sha256::new();
        hash.update(route.as_bytes());
        hash.update([0]);
        // Serialising a plain struct cannot fail; if it did, no two requests would match.
        hash.update(serde_json::to_vec(request).unwrap_or_default());
        let request_hash = hex::encode(hash.finalize());
        Once { key, request_hash }
    }
}

fn since() -> i64 {
    now_ms() - KEEP.as_millis() as i64
}

/// The first result for this key, if it did its work within [`KEEP`];
/// 422 when the key was used for another request.
pub(crate) async fn first_result<T: DeserializeOwned>(
    pool: &Pool,
    owner: &str,
    once: &Once,
) -> Result<Option<T>, AppError> {
    let Some(kept) = idempotency::find(pool, owner, once.key.as_str(), since()).await? else {
        return Ok(None);
    };
    if kept.request_hash != once.request_hash {
        return Err(AppError::Unprocessable(format!(
            "{HEADER} was already used for a different request"
        )));
    }
    serde_json::from_str(&kept.result).map(Some).map_err(|e| {
        tracing::error!(error = %e, "unreadable kept result");
        AppError::Internal
    })
}

/// Keeps `result` as this key's first result, inside the caller's
/// transaction. `false`: another request with the key committed first, and
/// the caller must drop its transaction and answer with [`first_result`].
pub(crate) async fn keep<T: Serialize>(
    tx: &mut crate::server::store::Tx,
    owner: &str,
    once: &Once,
    result: &T,
) -> Result<bool, AppError> {
    let json = serde_json::to_string(result).map_err(|_| AppError::Internal)?;
    let kept = idempotency::keep(
        tx,
        owner,
        once.key.as_str(),
        &once.request_hash,
        &json,
        now_ms(),
        since(),
    )
    .await?;
    Ok(kept)
}

/// After losing the race in [`keep`]: the winner's result (or 422).
pub(crate) async fn answer_of_winner<T: DeserializeOwned>(
    pool: &Pool,
    owner: &str,
    once: &Once,
) -> Result<T, AppError> {
    first_result(pool, owner, once).await?.ok_or_else(|| {
        tracing::error!("idempotency key taken but not found");
        AppError::Internal
    })
}

/// Deletes keys older than [`KEEP`] (the sweeper); returns how many.
pub async fn prune(pool: &Pool) -> Result<u64, StoreError> {
    idempotency::prune(pool, since()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(b"retry 7f3c-01").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; KEY_MAX]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; KEY_MAX + 1],
            b"a\nb",
            b"tab\t",
            "é".as_bytes(),
        ] {
            match IdempotencyKey::parse(bad) {
                Err(AppError::Invalid { field, .. }) => assert_eq!(field, HEADER),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_hash_names_route_and_request() {
        let key = IdempotencyKey::parse(b"k").unwrap();
        let a = Once::new(key.clone(), "broadcast", &serde_json::json!({"t": 1}));
        let same = Once::new(key.clone(), "broadcast", &serde_json::json!({"t": 1}));
        let other_body = Once::new(key.clone(), "broadcast", &serde_json::json!({"t": 2}));
        let other_route = Once::new(key, "send-to-user", &serde_json::json!({"t": 1}));
        assert_eq!(a.request_hash, same.request_hash);
        assert_ne!(a.request_hash, other_body.request_hash);
        assert_ne!(a.request_hash, other_route.request_hash);
        assert_eq!(a.request_hash.len(), 64);
    }
}
