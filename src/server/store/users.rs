//! Accounts.

use crate::model::{Role, UserView};
use crate::server::store::{
    dialect::{execute, fetch},
    log, now_ms, Pool, StoreError, Tx,
};

/// The password hash of an account created without a password: not a PHC
/// string, so no password ever matches it (sign-in checks a decoy instead,
/// so such an account answers as slowly as any other).
pub const NO_PASSWORD: &str = "!";

/// A user row including the password hash; stays inside the server.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    /// Given when a host app provisions the account.
    pub email: Option<String>,
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
        "SELECT id, username, password_hash, role, email FROM users WHERE username = ?",
        username
    )?)
}

pub async fn find_by_id(pool: &Pool, id: i64) -> Result<Option<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_optional,
        UserRecord,
        "SELECT id, username, password_hash, role, email FROM users WHERE id = ?",
        id
    )?)
}

/// Creates the user unless the name is taken; returns whether it was
/// created.
pub async fn insert_if_absent(
    pool: &Pool,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<bool, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let created = insert(&mut tx, username, password_hash, role, None).await?;
    crate::server::store::commit(tx).await?;
    Ok(created.is_some())
}

/// Creates the user in the caller's write transaction unless the name is
/// taken; returns the new id. They join their channels at the log's head:
/// what was sent before is not theirs.
pub async fn insert(
    tx: &mut Tx,
    username: &str,
    password_hash: &str,
    role: Role,
    email: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    let created: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "INSERT INTO users (username, password_hash, role, created_at, email) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (username) DO NOTHING RETURNING id",
        username,
        password_hash,
        role.as_str(),
        now_ms(),
        email
    )?;
    let Some((id,)) = created else {
        return Ok(None);
    };
    log::join(tx, id, role).await?;
    if email.is_some() {
        crate::server::store::escalations::add_address(tx, id).await?;
    }
    Ok(Some(id))
}

pub async fn list(pool: &Pool) -> Result<Vec<UserRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(fetch!(
        conn,
        fetch_all,
        UserRecord,
        "SELECT id, username, password_hash, role, email FROM users ORDER BY id"
    )?)
}

/// In the caller's write transaction; returns the user's id and former
/// role, `None` when there is no such user. Their role channel changes at
/// the log's head: role announcements already sent stay as they were
/// received.
pub async fn set_role(
    tx: &mut Tx,
    username: &str,
    role: Role,
) -> Result<Option<(i64, Role)>, StoreError> {
    let Some((id, old)) = id_and_role(tx, username).await? else {
        return Ok(None);
    };
    if old != role {
        execute!(
            tx,
            "UPDATE users SET role = ? WHERE id = ?",
            role.as_str(),
            id
        )?;
        log::change_role(tx, id, old, role).await?;
    }
    Ok(Some((id, old)))
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

/// Deletes the user in the caller's write transaction; returns their id,
/// `None` when there is no such user. Their sessions, channels and inbox
/// state go with them (ON DELETE CASCADE), and the channels' member counts
/// drop.
pub async fn delete(tx: &mut Tx, username: &str) -> Result<Option<i64>, StoreError> {
    let Some((id, role)) = id_and_role(tx, username).await? else {
        return Ok(None);
    };
    log::leave_all(tx, id, role).await?;
    execute!(tx, "DELETE FROM users WHERE id = ?", id)?;
    Ok(Some(id))
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

/// The user's e-mail address, in the caller's transaction.
pub async fn email_of(tx: &mut Tx, id: i64) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = fetch!(
        tx,
        fetch_optional,
        (Option<String>,),
        "SELECT email FROM users WHERE id = ?",
        id
    )?;
    Ok(row.and_then(|(email,)| email))
}
