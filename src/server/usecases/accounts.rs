//! Managing accounts: the `herald user …` CLI and the provisioning API
//! (`usecases::provisioning`) both come here, so both have the same
//! effects.
//!
//! Each change commits with its audit row (and, from the API, its
//! `Idempotency-Key` result) in one write transaction. Changing someone's
//! role or password, or deleting them, revokes their sessions in the store;
//! when running inside the server the hub closes their streams at once and
//! their live counter goes with them, otherwise (the CLI, or another
//! instance of a cluster) the server's session sweep closes them.

use serde::{de::DeserializeOwned, Serialize};

use crate::{
    model::{AccountView, AppError, Role, UserView},
    server::{
        auth::password::Hashers,
        delivery::events::{self, DomainEvent},
        delivery::hub::Hub,
        store::{
            self,
            audit::{self, Actor},
            sessions, users, Pool, Tx,
        },
        usecases::idempotency::{self, Once},
    },
};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const USERNAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;

/// Who changes an account, and the request's `Idempotency-Key` with the
/// owner it is kept under, if any.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub actor: Actor<'a>,
    pub once: Option<(&'a str, &'a Once)>,
}

impl Change<'static> {
    /// The command line: the operator of the machine.
    pub const CLI: Change<'static> = Change {
        actor: Actor {
            id: None,
            name: "cli",
        },
        once: None,
    };
}

/// An account to create.
pub struct NewAccount<'a> {
    pub username: &'a str,
    /// `None`: the account cannot sign in with a password.
    pub password: Option<&'a str>,
    pub role: Role,
    pub email: Option<&'a str>,
}

pub async fn add_user(
    pool: &Pool,
    hashers: &Hashers,
    username: &str,
    password: &str,
    role: Role,
) -> Result<UserView, AppError> {
    let new = NewAccount {
        username,
        password: Some(password),
        role,
        email: None,
    };
    let account = create(pool, hashers, &Change::CLI, new).await?;
    Ok(UserView {
        id: account.id,
        username: account.username,
        role: account.role,
    })
}

/// Creates an account; 409 when the name is taken.
pub async fn create(
    pool: &Pool,
    hashers: &Hashers,
    change: &Change<'_>,
    new: NewAccount<'_>,
) -> Result<AccountView, AppError> {
    validate_username(new.username)?;
    let email = new.email.map(validate_email).transpose()?;
    let hash = match new.password {
        Some(password) => hash_password(hashers, password).await?,
        None => users::NO_PASSWORD.to_string(),
    };
    let mut tx = store::begin_write(pool).await?;
    let Some(id) = users::insert(&mut tx, new.username, &hash, new.role, email).await? else {
        return Err(AppError::Conflict(format!(
            "username {:?} is taken",
            new.username
        )));
    };
    let account = AccountView {
        id,
        username: new.username.to_string(),
        role: new.role,
        email: email.map(str::to_string),
    };
    let detail = format!("role {}", new.role.as_str());
    audit::record(&mut tx, change.actor, "user.created", new.username, &detail).await?;
    let account = finish(pool, tx, change, account).await?.result();
    tracing::info!(user_id = id, role = new.role.as_str(), "user added");
    Ok(account)
}

pub async fn list_users(pool: &Pool) -> Result<Vec<UserView>, AppError> {
    Ok(users::list(pool).await?.iter().map(|u| u.view()).collect())
}

/// The account as provisioning shows it; 404 when there is none.
pub async fn account(pool: &Pool, username: &str) -> Result<AccountView, AppError> {
    let user = find(pool, username).await?;
    Ok(AccountView {
        id: user.id,
        role: user.role(),
        username: user.username,
        email: user.email,
    })
}

pub async fn set_role(
    pool: &Pool,
    hub: Option<&Hub>,
    username: &str,
    role: Role,
) -> Result<(), AppError> {
    change_role(pool, hub, &Change::CLI, username, role)
        .await
        .map(drop)
}

/// Gives the account `role`. A change ends their sessions and closes their
/// streams; the same role again changes nothing.
pub async fn change_role(
    pool: &Pool,
    hub: Option<&Hub>,
    change: &Change<'_>,
    username: &str,
    role: Role,
) -> Result<AccountView, AppError> {
    let mut tx = store::begin_write(pool).await?;
    let Some((id, old)) = users::set_role(&mut tx, username, role).await? else {
        return Err(not_found(username));
    };
    if old != role {
        sessions::revoke_all_for_user_in(&mut tx, id).await?;
        let detail = format!("role {} → {}", old.as_str(), role.as_str());
        audit::record(&mut tx, change.actor, "user.role", username, &detail).await?;
    }
    let email = users::email_of(&mut tx, id).await?;
    let account = AccountView {
        id,
        username: username.to_string(),
        role,
        email,
    };
    let finished = finish(pool, tx, change, account).await?;
    if old != role && finished.did_the_work() {
        closed_streams(hub, id);
    }
    Ok(finished.result())
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
    sessions::revoke_all_for_user(pool, user.id).await?;
    closed_streams(hub, user.id);
    Ok(())
}

pub async fn delete_user(pool: &Pool, hub: Option<&Hub>, username: &str) -> Result<(), AppError> {
    remove(pool, hub, &Change::CLI, username).await
}

/// Deletes the account with its sessions, inbox state and channels; their
/// streams close.
pub async fn remove(
    pool: &Pool,
    hub: Option<&Hub>,
    change: &Change<'_>,
    username: &str,
) -> Result<(), AppError> {
    let mut tx = store::begin_write(pool).await?;
    let Some(id) = users::delete(&mut tx, username).await? else {
        return Err(not_found(username));
    };
    audit::record(&mut tx, change.actor, "user.deleted", username, "").await?;
    if finish(pool, tx, change, ()).await?.did_the_work() {
        closed_streams(hub, id);
    }
    Ok(())
}

/// What committing a change gave: ours, or the first result of a request
/// with the same `Idempotency-Key` that committed before ours.
enum Finished<T> {
    Done(T),
    Earlier(T),
}

impl<T> Finished<T> {
    fn result(self) -> T {
        match self {
            Finished::Done(t) | Finished::Earlier(t) => t,
        }
    }

    fn did_the_work(&self) -> bool {
        matches!(self, Finished::Done(_))
    }
}

/// Keeps the result under the request's key (if any) and commits; when a
/// concurrent request with the key won, rolls back and answers with its.
async fn finish<T: Serialize + DeserializeOwned>(
    pool: &Pool,
    mut tx: Tx,
    change: &Change<'_>,
    result: T,
) -> Result<Finished<T>, AppError> {
    if let Some((owner, once)) = change.once {
        if !idempotency::keep(&mut tx, owner, once, &result).await? {
            drop(tx);
            let earlier = idempotency::answer_of_winner(pool, owner, once).await?;
            return Ok(Finished::Earlier(earlier));
        }
    }
    store::commit(tx).await?;
    Ok(Finished::Done(result))
}

/// After the commit: their streams on this instance close, and their
/// counter goes with the last one.
fn closed_streams(hub: Option<&Hub>, user_id: i64) {
    if let Some(hub) = hub {
        events::publish(hub, [DomainEvent::UserAccessRevoked { user_id }]);
    }
}

fn not_found(username: &str) -> AppError {
    AppError::NotFound(format!("user {username:?}"))
}

async fn find(pool: &Pool, username: &str) -> Result<users::UserRecord, AppError> {
    users::find_by_name(pool, username)
        .await?
        .ok_or_else(|| not_found(username))
}

fn validate_username(name: &str) -> Result<(), AppError> {
    check_name("username", name)
}

/// The rule for names people type and logs show (usernames, key names):
/// 1 to 64 of `[A-Za-z0-9_.-]`, starting with a letter or digit.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), AppError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() <= USERNAME_MAX {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("1 to {USERNAME_MAX} letters, digits, '_', '.' or '-', starting with a letter or digit"),
        ))
    }
}

/// An address as mail servers take it: one `@`, something on each side,
/// no spaces or control characters. Whether it receives mail is the host
/// app's to know (provisioned addresses count as verified).
fn validate_email(email: &str) -> Result<&str, AppError> {
    let ok = email.len() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if ok {
        Ok(email)
    } else {
        Err(AppError::invalid(
            "email",
            format!("must be an address like name@example.com, at most {EMAIL_MAX} characters"),
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
    use super::{validate_email, validate_username};

    #[test]
    fn usernames() {
        for ok in ["alice", "bench17", "a.b-c_d", "7up"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", " alice", "al ice", "-x", "é", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b", "first.last+tag@example.co.uk"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in ["", "a", "@b", "a@", "a@b@c", "a b@c", "a@b\n", &long] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }
}
