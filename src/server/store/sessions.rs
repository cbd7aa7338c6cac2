//! Issued sessions (the JWT `sid`), so one of them can be revoked.

use crate::model::UserView;
use crate::server::store::{
    dialect::{execute, fetch, json_list},
    now_ms, users, Pool, StoreError, Tx,
};

pub async fn insert(
    pool: &Pool,
    id: &str,
    user_id: i64,
    expires_at_ms: i64,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        id,
        user_id,
        now_ms(),
        expires_at_ms
    )?;
    Ok(())
}

/// The user behind a session that is neither revoked nor expired, with
/// their current name and role: one query for every authenticated request.
pub async fn active_user(
    pool: &Pool,
    id: &str,
    user_id: i64,
) -> Result<Option<UserView>, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64, String, String)> = fetch!(
        conn,
        fetch_optional,
        (i64, String, String),
        "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
        id,
        user_id,
        now_ms()
    )?;
    Ok(row.map(|(id, username, role)| UserView {
        id,
        username,
        role: users::role_from_row(&role),
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
