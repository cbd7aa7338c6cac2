//! Issued sessions (the JWT `sid`), so one of them can be revoked.

use crate::model::UserView;
use crate::server::store::{
    dialect::{execute, fetch, json_list},
    now_ms, users, Pool, StoreError, Tx,
};

/// `key_id`: the service key a host app asked for this session with (a
/// user token), or `None` for a sign-in.
pub async fn insert(
    pool: &Pool,
    id: &str,
    user_id: i64,
    expires_at_ms: i64,
    key_id: Option<i64>,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "INSERT INTO sessions (id, user_id, created_at, expires_at, key_id) VALUES (?, ?, ?, ?, ?)",
        id,
        user_id,
        now_ms(),
        expires_at_ms,
        key_id
    )?;
    Ok(())
}

/// A usable session: its user (current name and role) and, for a user
/// token, the key it was issued to.
pub struct ActiveSession {
    pub user: UserView,
    pub key_id: Option<i64>,
}

/// The session if it is neither revoked nor expired, nor issued to a key
/// since revoked: one query for every authenticated request.
pub async fn active(
    pool: &Pool,
    id: &str,
    user_id: i64,
) -> Result<Option<ActiveSession>, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64, String, String, Option<i64>)> = fetch!(
        conn,
        fetch_optional,
        (i64, String, String, Option<i64>),
        "SELECT u.id, u.username, u.role, s.key_id FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
        id,
        user_id,
        now_ms()
    )?;
    Ok(row.map(|(id, username, role, key_id)| ActiveSession {
        user: UserView {
            id,
            username,
            role: users::role_from_row(&role),
        },
        key_id,
    }))
}

pub async fn revoke(pool: &Pool, id: &str) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        now_ms(),
        id
    )?;
    Ok(())
}

/// Ends every session of a user (password reset).
pub async fn revoke_all_for_user(pool: &Pool, user_id: i64) -> Result<(), StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    revoke_all_for_user_in(&mut tx, user_id).await?;
    crate::server::store::commit(tx).await
}

/// [`revoke_all_for_user`] in the caller's transaction, so the sessions end
/// with the change that ends them.
pub async fn revoke_all_for_user_in(tx: &mut Tx, user_id: i64) -> Result<(), StoreError> {
    execute!(
        tx,
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        now_ms(),
        user_id
    )?;
    Ok(())
}

/// Ends every session issued to the key (its user tokens), in the
/// transaction that revokes the key; the ids, so this instance can close
/// their streams at once (the others do at their session sweep).
pub async fn revoke_all_for_key_in(tx: &mut Tx, key_id: i64) -> Result<Vec<String>, StoreError> {
    let ended: Vec<(String,)> = fetch!(
        tx,
        fetch_all,
        (String,),
        "UPDATE sessions SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL RETURNING id",
        now_ms(),
        key_id
    )?;
    Ok(ended.into_iter().map(|(id,)| id).collect())
}

/// Deletes up to `batch` sessions that expired before `before_ms`: with
/// user tokens (minutes long, thousands a day) the table would otherwise
/// grow without end. Rows a sweep leaves go at the next one.
pub async fn delete_expired(pool: &Pool, before_ms: i64, batch: i64) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    let deleted = execute!(
        conn,
        "DELETE FROM sessions WHERE id IN
           (SELECT id FROM sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)",
        before_ms,
        batch
    )?;
    Ok(deleted)
}

/// Of the given session ids, those that are no longer usable (revoked,
/// expired, or gone with their user): the server closes their streams.
pub async fn dead_among(pool: &Pool, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut conn = pool.acquire().await?;
    let alive: std::collections::HashSet<String> = fetch!(
        conn,
        fetch_all,
        (String,),
        "SELECT id FROM sessions WHERE id IN {text_list} AND revoked_at IS NULL AND expires_at > ?",
        json_list(ids),
        now_ms()
    )?
    .into_iter()
    .map(|(id,)| id)
    .collect();
    Ok(ids
        .iter()
        .filter(|id| !alive.contains(*id))
        .cloned()
        .collect())
}
