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

/// A provisioning call's `Idempotency-Key` (matched against the request's
/// digest) and whose keys it is among: one for every call below.
struct Keyed {
    owner: String,
    once: Option<Once>,
}

impl Keyed {
    fn new(
        caller: &Caller,
        key: Option<IdempotencyKey>,
        route: &str,
        digest: &impl Serialize,
    ) -> Keyed {
        Keyed {
            owner: caller.owner(),
            once: key.map(|key| Once::new(key, route, digest)),
        }
    }

    /// The first result kept for the request's key, if any.
    async fn first<T: DeserializeOwned>(&self, state: &AppState) -> Result<Option<T>, AppError> {
        match &self.once {
            Some(once) => idempotency::first_result(&state.pool, &self.owner, once).await,
            None => Ok(None),
        }
    }

    /// The account change, by `caller`, keeping its result under the key.
    fn change<'a>(&'a self, caller: &'a Caller) -> Change<'a> {
        Change {
            actor: caller.actor(),
            once: self.once.as_ref().map(|once| (self.owner.as_str(), once)),
        }
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
    let keyed = Keyed::new(caller, key, "users.create", &digest);
    if let Some(first) = keyed.first(state).await? {
        return Ok(first);
    }
    let account = NewAccount {
        username: &new.username,
        password: new.password.as_deref(),
        role: new.role,
        email: new.email.as_deref(),
    };
    accounts::create(&state.pool, &state.hashers, &keyed.change(caller), account).await
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
    let keyed = Keyed::new(caller, key, "users.role", &(username, role));
    if let Some(first) = keyed.first(state).await? {
        return Ok(first);
    }
    accounts::change_role(
        &state.pool,
        Some(&state.hub),
        &keyed.change(caller),
        username,
        role,
    )
    .await
}

pub async fn delete(
    state: &AppState,
    caller: &Caller,
    username: &str,
    key: Option<IdempotencyKey>,
) -> Result<(), AppError> {
    caller.require(Scope::Users)?;
    let keyed = Keyed::new(caller, key, "users.delete", &username);
    if let Some(()) = keyed.first(state).await? {
        return Ok(());
    }
    accounts::remove(
        &state.pool,
        Some(&state.hub),
        &keyed.change(caller),
        username,
    )
    .await
}
