//! Provisioning: a host app (a `users` key) or an admin keeping Herald's
//! accounts in step. Each call is the CLI's account change
//! (`usecases::accounts`), with the caller in the audit log and the
//! request's `Idempotency-Key` honoured: a retry gets the first result and
//! changes nothing.

use serde::{de::DeserializeOwned, Serialize};

use crate::{
    model::{AccountView, AppError, Role, Scope},
    server::{
        auth::Caller,
        state::AppState,
        usecases::{
            accounts::{self, Change, NewAccount},
            idempotency::{self, IdempotencyKey, Once},
        },
    },
};

/// A provisioning request, parsed.
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub password: Option<String>,
    pub email: Option<String>,
}

/// What an `Idempotency-Key` is matched against: the request without its
/// password, so no fast hash of a password is ever stored.
#[derive(Serialize)]
struct CreateDigest<'a> {
    username: &'a str,
    role: Role,
    has_password: bool,
    email: Option<&'a str>,
}

pub fn parse_role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| AppError::invalid("role", "must be user or admin"))
}

/// The first result kept for the request's key, if any.
async fn kept<T: DeserializeOwned>(
    state: &AppState,
    owner: &str,
    once: Option<&Once>,
) -> Result<Option<T>, AppError> {
    match once {
        Some(once) => idempotency::first_result(&state.pool, owner, once).await,
        None => Ok(None),
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewUser,
    key: Option<IdempotencyKey>,
) -> Result<AccountView, AppError> {
    caller.require(Scope::Users)?;
    let digest = CreateDigest {
        username: &new.username,
        role: new.role,
        has_password: new.password.is_some(),
        email: new.email.as_deref(),
    };
    let once = key.map(|key| Once::new(key, "users.create", &digest));
    let owner = caller.owner();
    if let Some(first) = kept(state, &owner, once.as_ref()).await? {
        return Ok(first);
    }
    let change = Change {
        actor: caller.actor(),
        once: once.as_ref().map(|once| (owner.as_str(), once)),
    };
    let account = NewAccount {
        username: &new.username,
        password: new.password.as_deref(),
        role: new.role,
        email: new.email.as_deref(),
    };
    accounts::create(&state.pool, &state.hashers, &change, account).await
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<AccountView, AppError> {
    caller.require(Scope::Users)?;
    accounts::account(&state.pool, username).await
}

pub async fn set_role(
    state: &AppState,
    caller: &Caller,
    username: &str,
    role: Role,
    key: Option<IdempotencyKey>,
) -> Result<AccountView, AppError> {
    caller.require(Scope::Users)?;
    let once = key.map(|key| Once::new(key, "users.role", &(username, role)));
    let owner = caller.owner();
    if let Some(first) = kept(state, &owner, once.as_ref()).await? {
        return Ok(first);
    }
    let change = Change {
        actor: caller.actor(),
        once: once.as_ref().map(|once| (owner.as_str(), once)),
    };
    accounts::change_role(&state.pool, Some(&state.hub), &change, username, role).await
}

pub async fn delete(
    state: &AppState,
    caller: &Caller,
    username: &str,
    key: Option<IdempotencyKey>,
) -> Result<(), AppError> {
    caller.require(Scope::Users)?;
    let once = key.map(|key| Once::new(key, "users.delete", &username));
    let owner = caller.owner();
    if let Some(()) = kept(state, &owner, once.as_ref()).await? {
        return Ok(());
    }
    let change = Change {
        actor: caller.actor(),
        once: once.as_ref().map(|once| (owner.as_str(), once)),
    };
    accounts::remove(&state.pool, Some(&state.hub), &change, username).await
}
