//! Accounts.

use super::{log, now_ms, Pool, StoreError};
use crate::model::{Role, UserView};

/// A user row including the password hash; stays inside the server.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
}

impl UserRecord {
    pub fn role(&self) -> Role {
        role_from_row(&self.role)
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            username: self.username.clone(),
            role: self.role(),
        }
    }
}

/// A stored role; anything unknown is the least privileged one.
pub(super) fn role_from_row(raw: &str) -> Role {
    Role::parse(raw).unwrap_or(Role::User)
}

pub async fn find_by_name(pool: &Pool, username: &str) -> Result<Option<UserRecord>, StoreError> {
    Ok(sqlx::query_as::<_, UserRecord>(
        "SELECT id, username, password_hash, role FROM users WHERE username = ?",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?)
}

pub async fn find_by_id(pool: &Pool, id: i64) -> Result<Option<UserRecord>, StoreError> {
    Ok(sqlx::query_as::<_, UserRecord>(
        "SELECT id, username, password_hash, role FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Creates the user unless the name is taken; returns whether it was
/// created. They join their channels at the log's head: what was sent
/// before is not theirs.
pub async fn insert_if_absent(
    pool: &Pool,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<bool, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let created: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id,)) = created else {
        return Ok(false);
    };
    log::join(&mut tx, id, role).await?;
    super::commit(tx).await?;
    Ok(true)
}

pub async fn list(pool: &Pool) -> Result<Vec<UserRecord>, StoreError> {
    Ok(sqlx::query_as::<_, UserRecord>(
        "SELECT id, username, password_hash, role FROM users ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

/// Returns whether a user with that name existed. Their role channel
/// changes at the log's head: role announcements already sent stay as
/// they were received.
pub async fn set_role(pool: &Pool, username: &str, role: Role) -> Result<bool, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let old: Option<(i64, String)> =
        sqlx::query_as("SELECT id, role FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((id, old)) = old else {
        return Ok(false);
    };
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    log::change_role(&mut tx, id, role_from_row(&old), role).await?;
    super::commit(tx).await?;
    Ok(true)
}

/// Returns whether a user with that name existed.
pub async fn set_password_hash(
    pool: &Pool,
    username: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE username = ?")
        .bind(hash)
        .bind(username)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the user; their sessions, channels and inbox state go with them
/// (ON DELETE CASCADE), and the channels' member counts drop.
pub async fn delete(pool: &Pool, username: &str) -> Result<bool, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let user: Option<(i64, String)> =
        sqlx::query_as("SELECT id, role FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((id, role)) = user else {
        return Ok(false);
    };
    log::leave_all(&mut tx, id, role_from_row(&role)).await?;
    sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    super::commit(tx).await?;
    Ok(true)
}
