//! Managing accounts (the `herald user …` CLI; later the admin API).
//!
//! Changing someone's role or password, or deleting them, revokes their
//! sessions in the store; when running inside the server the hub closes
//! their streams at once, otherwise the server's session sweep does.

use crate::{
    model::{AppError, Role, UserView},
    server::{
        auth::password::Hashers,
        delivery::events::{self, DomainEvent},
        delivery::hub::Hub,
        store::{sessions, users, Pool},
    },
};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const USERNAME_MAX: usize = 64;

pub async fn add_user(
    pool: &Pool,
    hashers: &Hashers,
    username: &str,
    password: &str,
    role: Role,
) -> Result<UserView, AppError> {
    validate_username(username)?;
    let hash = hash_password(hashers, password).await?;
    if !users::insert_if_absent(pool, username, &hash, role).await? {
        return Err(AppError::invalid(
            "username",
            format!("{username:?} is taken"),
        ));
    }
    let user = users::find_by_name(pool, username)
        .await?
        .ok_or(AppError::Internal)?;
    tracing::info!(user_id = user.id, role = role.as_str(), "user added");
    Ok(user.view())
}

pub async fn list_users(pool: &Pool) -> Result<Vec<UserView>, AppError> {
    Ok(users::list(pool).await?.iter().map(|u| u.view()).collect())
}

pub async fn set_role(
    pool: &Pool,
    hub: Option<&Hub>,
    username: &str,
    role: Role,
) -> Result<(), AppError> {
    let user = find(pool, username).await?;
    users::set_role(pool, username, role).await?;
    revoke_access(pool, hub, user.id).await
}

pub async fn set_password(
    pool: &Pool,
    hashers: &Hashers,
    hub: Option<&Hub>,
    username: &str,
    password: &str,
) -> Result<(), AppError> {
    let user = find(pool, username).await?;
    let hash = hash_password(hashers, password).await?;
    users::set_password_hash(pool, username, &hash).await?;
    revoke_access(pool, hub, user.id).await
}

pub async fn delete_user(pool: &Pool, hub: Option<&Hub>, username: &str) -> Result<(), AppError> {
    let user = find(pool, username).await?;
    users::delete(pool, username).await?;
    if let Some(hub) = hub {
        events::publish(hub, [DomainEvent::UserAccessRevoked { user_id: user.id }]);
    }
    Ok(())
}

async fn find(pool: &Pool, username: &str) -> Result<users::UserRecord, AppError> {
    users::find_by_name(pool, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))
}

async fn revoke_access(pool: &Pool, hub: Option<&Hub>, user_id: i64) -> Result<(), AppError> {
    sessions::revoke_all_for_user(pool, user_id).await?;
    if let Some(hub) = hub {
        events::publish(hub, [DomainEvent::UserAccessRevoked { user_id }]);
    }
    Ok(())
}

fn validate_username(name: &str) -> Result<(), AppError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() <= USERNAME_MAX {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            format!("1 to {USERNAME_MAX} letters, digits, '_', '.' or '-', starting with a letter or digit"),
        ))
    }
}

/// Through the server's hash gate (`Hashers`), like every other hash.
async fn hash_password(hashers: &Hashers, password: &str) -> Result<String, AppError> {
    let length = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&length) {
        return Err(AppError::invalid(
            "password",
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    hashers.hash(password).await
}

#[cfg(test)]
mod tests {
    use super::validate_username;

    #[test]
    fn usernames() {
        for ok in ["alice", "bench17", "a.b-c_d", "7up"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", " alice", "al ice", "-x", "é", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }
}
