//! First results of keyed requests (`Idempotency-Key`), one row per
//! (owner, key), the owner a user (`user:<id>`) or a service key
//! (`key:<id>`). A row is written inside the transaction of the work it
//! answers for, so it exists exactly when that work was committed.

use crate::server::store::{
    dialect::{execute, fetch},
    Pool, StoreError, Tx,
};

/// What was kept for a key.
#[derive(Debug, Clone)]
pub struct Kept {
    pub request_hash: String,
    /// The first result, as JSON.
    pub result: String,
}

/// The row for this key, unless it was made before `since_ms` (expired rows
/// match nothing, even before the sweeper deletes them). One primary-key lookup.
pub async fn find(
    pool: &Pool,
    owner: &str,
    key: &str,
    since_ms: i64,
) -> Result<Option<Kept>, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(String, String)> = fetch!(
        conn,
        fetch_optional,
        (String, String),
        "SELECT request_hash, result FROM idempotency_keys
         WHERE owner = ? AND key = ? AND created_at >= ?",
        owner,
        key,
        since_ms
    )?;
    Ok(row.map(|(request_hash, result)| Kept {
        request_hash,
        result,
    }))
}

/// Keeps the first result for this key inside the caller's transaction.
/// `false` when a live row for the key already exists (another request with
/// it committed first): the caller must roll back and answer with that one.
/// An expired row still in the table is taken over.
pub async fn keep(
    tx: &mut Tx,
    owner: &str,
    key: &str,
    request_hash: &str,
    result: &str,
    now_ms: i64,
    since_ms: i64,
) -> Result<bool, StoreError> {
    let done = execute!(
        tx,
        "INSERT INTO idempotency_keys (owner, key, request_hash, result, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (owner, key) DO UPDATE SET
           request_hash = excluded.request_hash, result = excluded.result, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < ?",
        owner,
        key,
        request_hash,
        result,
        now_ms,
        since_ms
    )?;
    Ok(done == 1)
}

/// Deletes rows made before `before_ms`; returns how many.
pub async fn prune(pool: &Pool, before_ms: i64) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(execute!(
        conn,
        "DELETE FROM idempotency_keys WHERE created_at < ?",
        before_ms
    )?)
}
