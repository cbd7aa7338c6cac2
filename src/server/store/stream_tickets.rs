//! Stream tickets (`auth::stream_ticket` says what they are for): a row per
//! outstanding ticket, keyed by the ticket's SHA-256, deleted when redeemed
//! or, expired, by the sweeper. Rows at rest: at most [`insert`]'s cap per
//! user, each gone within seconds.

use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, Pool, StoreError,
};

/// Stores a ticket unless the user already holds `cap` unexpired ones
/// (`false` then): one statement, so concurrent requests cannot all pass a
/// count taken before any of them wrote (SQLite runs writes one at a time;
/// on PostgreSQL the overshoot is bounded by the user's concurrent requests).
pub async fn insert(
    pool: &Pool,
    hash: &str,
    session_id: &str,
    user_id: i64,
    expires_at_ms: i64,
    cap: i64,
) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    let now = now_ms();
    let stored = execute!(
        conn,
        "INSERT INTO stream_tickets (hash, session_id, user_id, expires_at)
         SELECT ?, ?, ?, ?
         WHERE (SELECT COUNT(*) FROM stream_tickets WHERE user_id = ? AND expires_at > ?) < ?",
        hash,
        session_id,
        user_id,
        expires_at_ms,
        user_id,
        now,
        cap
    )?;
    Ok(stored == 1)
}

/// A redeemed ticket: whose stream it opens.
pub struct Redeemed {
    pub session_id: String,
    pub user_id: i64,
}

/// Takes the ticket: deleted by this statement, so of two requests with one
/// ticket (on one instance or two) exactly one gets it. `None` when it
/// does not exist, was taken, or has expired.
pub async fn redeem(pool: &Pool, hash: &str) -> Result<Option<Redeemed>, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(String, i64, i64)> = fetch!(
        conn,
        fetch_optional,
        (String, i64, i64),
        "DELETE FROM stream_tickets WHERE hash = ? RETURNING session_id, user_id, expires_at",
        hash
    )?;
    Ok(row
        .filter(|(_, _, expires_at)| *expires_at > now_ms())
        .map(|(session_id, user_id, _)| Redeemed {
            session_id,
            user_id,
        }))
}

/// Deletes expired tickets (the sweeper); how many.
pub async fn delete_expired(pool: &Pool) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    let deleted = execute!(
        conn,
        "DELETE FROM stream_tickets WHERE expires_at <= ?",
        now_ms()
    )?;
    Ok(deleted)
}
