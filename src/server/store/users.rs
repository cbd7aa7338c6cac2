//! Accounts.

use crate::model::{Role, UserView};
use crate::server::store::{
    dialect::{execute, fetch},
    log, now_ms, Pool, StoreError, Tx,
};

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
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_optional,
        UserRecord,
        "SELECT id, username, password_hash, role FROM users WHERE username = ?",
        username
    )?)
}

pub async fn find_by_id(pool: &Pool, id: i64) -> Result<Option<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_optional,
        UserRecord,
        "SELECT id, username, password_hash, role FROM users WHERE id = ?",
        id
    )?)
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
    let mut tx = crate::server::store::begin_write(pool).await?;
    let created: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (username) DO NOTHING RETURNING id",
        username,
        password_hash,
        role.as_str(),
        now_ms()
    )?;
    let Some((id,)) = created else {
        return Ok(false);
    };
    log::join(&mut tx, id, role).await?;
    crate::server::store::commit(tx).await?;
    Ok(true)
}

pub async fn list(pool: &Pool) -> Result<Vec<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_all,
        UserRecord,
        "SELECT id, username, password_hash, role FROM users ORDER BY id"
    )?)
}

/// Returns whether a user with that name existed. Their role channel
/// changes at the log's head: role announcements already sent stay as
/// they were received.
pub async fn set_role(pool: &Pool, username: &str, role: Role) -> Result<bool, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let Some((id, old)) = id_and_role(&mut tx, username).await? else {
        return Ok(false);
    };
    execute!(
        tx,
        "UPDATE users SET role = ? WHERE id = ?",
        role.as_str(),
        id
    )?;
    log::change_role(&mut tx, id, old, role).await?;
    crate::server::store::commit(tx).await?;
    Ok(true)
}

/// Returns whether a user with that name existed.
pub async fn set_password_hash(
    pool: &Pool,
    username: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    let done = execute!(
        conn,
        "UPDATE users SET password_hash = ? WHERE username = ?",
        hash,
        username
    )?;
    Ok(done == 1)
}

/// Deletes the user; their sessions, channels and inbox state go with them
/// (ON DELETE CASCADE), and the channels' member counts drop.
pub async fn delete(pool: &Pool, username: &str) -> Result<bool, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let Some((id, role)) = id_and_role(&mut tx, username).await? else {
        return Ok(false);
    };
    log::leave_all(&mut tx, id, role).await?;
    execute!(tx, "DELETE FROM users WHERE id = ?", id)?;
    crate::server::store::commit(tx).await?;
    Ok(true)
}

/// The user's id and current role, in the caller's write transaction.
async fn id_and_role(tx: &mut Tx, username: &str) -> Result<Option<(i64, Role)>, StoreError> {
    let row: Option<(i64, String)> = fetch!(
        tx,
        fetch_optional,
        (i64, String),
        "SELECT id, role FROM users WHERE username = ?",
        username
    )?;
    Ok(row.map(|(id, role)| (id, role_from_row(&role))))
}
