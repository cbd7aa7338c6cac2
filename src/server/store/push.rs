//! Web Push subscriptions (docs/escalation.md, "Web Push"): at most
//! [`MAX_PER_USER`] browsers per user, one row each. A subscription gives
//! its user an escalation row (as an address does), so the escalation task
//! looks at them; keys are stored as the browser gave them (base64url) and
//! never logged.

use crate::server::store::{
    begin_write, commit,
    dialect::{execute, fetch},
    escalations, now_ms, Pool, StoreError,
};

/// Browsers one user may subscribe; a new one past it replaces the oldest.
pub const MAX_PER_USER: i64 = 10;

/// One stored subscription (no `Debug`: the keys are never logged).
#[derive(Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The digest (its last position) last pushed here.
    pub sent_for: i64,
}

/// Stores (or moves to this user, with new keys) the subscription of
/// `endpoint`, drops the user's oldest past [`MAX_PER_USER`], and makes
/// sure the escalation task looks at the user. One transaction.
pub async fn subscribe(
    pool: &Pool,
    user_id: i64,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    execute!(
        tx,
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = ?1, p256dh = ?3, auth = ?4,
             created_at = ?5, sent_for = 0",
        user_id,
        endpoint,
        p256dh,
        auth,
        now_ms()
    )?;
    execute!(
        tx,
        "DELETE FROM push_subscriptions WHERE user_id = ?1 AND id NOT IN (
             SELECT id FROM push_subscriptions WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
        user_id,
        MAX_PER_USER
    )?;
    escalations::add_address(&mut tx, user_id).await?;
    commit(tx).await
}

/// Removes the user's subscription of `endpoint`; `false` when there was none.
pub async fn unsubscribe(pool: &Pool, user_id: i64, endpoint: &str) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let gone = execute!(
        tx,
        "DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?",
        user_id,
        endpoint
    )?;
    commit(tx).await?;
    Ok(gone > 0)
}

/// The user's subscriptions, oldest first (at most [`MAX_PER_USER`]).
pub async fn for_user(pool: &Pool, user_id: i64) -> Result<Vec<Row>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_all,
        Row,
        "SELECT id, endpoint, p256dh, auth, sent_for FROM push_subscriptions
         WHERE user_id = ? ORDER BY id",
        user_id
    )?)
}

/// The digest `key` reached this subscription (or never will).
pub async fn mark_sent(pool: &Pool, id: i64, key: i64) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    execute!(
        tx,
        "UPDATE push_subscriptions SET sent_for = ? WHERE id = ?",
        key,
        id
    )?;
    commit(tx).await
}

/// The push service said the subscription is gone (404, 410).
pub async fn delete(pool: &Pool, id: i64) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    execute!(tx, "DELETE FROM push_subscriptions WHERE id = ?", id)?;
    commit(tx).await
}
