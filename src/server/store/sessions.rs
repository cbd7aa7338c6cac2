//! Issued sessions (the JWT `sid`), so one of them can be revoked.

use super::{now_ms, users, Pool, StoreError};
use crate::model::UserView;

pub async fn insert(
    pool: &Pool,
    id: &str,
    user_id: i64,
    expires_at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(user_id)
        .bind(now_ms())
        .bind(expires_at_ms)
        .execute(pool)
        .await?;
    Ok(())
}

/// True when the session exists, belongs to `user_id`, and is neither revoked nor expired.
/// The user behind a session that is neither revoked nor expired, with
/// their current name and role: one query for every authenticated request.
pub async fn active_user(
    pool: &Pool,
    id: &str,
    user_id: i64,
) -> Result<Option<UserView>, StoreError> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
    )
    .bind(id)
    .bind(user_id)
    .bind(now_ms())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, username, role)| UserView {
        id,
        username,
        role: users::role_from_row(&role),
    }))
}

pub async fn revoke(pool: &Pool, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of a user (role change, password reset).
pub async fn revoke_all_for_user(pool: &Pool, user_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Of the given session ids, those that are no longer usable (revoked,
/// expired, or gone with their user): the server closes their streams.
pub async fn dead_among(pool: &Pool, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut dead = Vec::new();
    // Bounded batches keep each statement under SQLite's parameter limit.
    for chunk in ids.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id FROM sessions WHERE id IN ({placeholders}) AND revoked_at IS NULL AND expires_at > ?"
        );
        let mut query = sqlx::query_as::<_, (String,)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        let alive: std::collections::HashSet<String> = query
            .bind(now_ms())
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        dead.extend(chunk.iter().filter(|id| !alive.contains(*id)).cloned());
    }
    Ok(dead)
}
