//! Service API keys: created, listed and revoked by an admin (console) or
//! by the machine's operator (`herald key …`). A key never manages keys.

use crate::{
    model::{AppError, CreatedKey, KeyView, Scope},
    server::{
        auth::{service_key, Session},
        delivery::events::{self, DomainEvent},
        state::AppState,
        store::{api_keys, audit::Actor, Pool},
        usecases::require_admin,
    },
};

/// The CLI, acting as the machine's operator.
pub const CLI: Actor<'static> = Actor {
    id: None,
    name: "cli",
};

/// What an admin session acts as.
pub fn admin_actor(session: &Session) -> Result<Actor<'_>, AppError> {
    require_admin(session)?;
    Ok(Actor {
        id: Some(session.user.id),
        name: &session.user.username,
    })
}

/// Makes a key; the answer is the only place the key is ever seen.
pub async fn create(
    pool: &Pool,
    actor: Actor<'_>,
    name: &str,
    scopes: &[Scope],
) -> Result<CreatedKey, AppError> {
    let name = name.trim();
    validate_name(name)?;
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(AppError::invalid(
            "scopes",
            "pick at least one of publish, read, users",
        ));
    }
    // A clash of random public ids (48 bits) is retried with another.
    for _ in 0..3 {
        let minted = service_key::mint()?;
        let new = api_keys::NewKey {
            name,
            public_id: &minted.public_id,
            secret_hash: &minted.secret_hash,
            scopes: &scopes,
        };
        if let Some(view) = api_keys::insert(pool, &new, actor).await? {
            tracing::info!(key = name, by = actor.name, "API key created");
            return Ok(CreatedKey {
                key: minted.key,
                view,
            });
        }
        if api_keys::name_is_live(pool, name).await? {
            return Err(AppError::Conflict(format!(
                "a key named {name:?} exists; revoke it first or pick another name"
            )));
        }
    }
    tracing::error!("three random key ids clashed");
    Err(AppError::Internal)
}

pub async fn list(pool: &Pool) -> Result<Vec<KeyView>, AppError> {
    Ok(api_keys::list(pool).await?)
}

/// Revokes it: from the commit on, every request with it gets 401, on
/// every instance (each checks the database on every request), and the
/// user tokens issued to it are revoked with it. The answer is their
/// sessions: the caller closes their streams here (other instances close
/// theirs at their session sweep).
pub async fn revoke(pool: &Pool, actor: Actor<'_>, name: &str) -> Result<Vec<String>, AppError> {
    let Some(ended) = api_keys::revoke(pool, name.trim(), actor).await? else {
        return Err(AppError::NotFound(format!("live key {name:?}")));
    };
    tracing::info!(
        key = name,
        by = actor.name,
        tokens = ended.len(),
        "API key revoked"
    );
    Ok(ended)
}

/// [`revoke`] from a running server: the streams of the key's user tokens
/// on this instance close at once.
pub async fn revoke_and_close(
    state: &AppState,
    actor: Actor<'_>,
    name: &str,
) -> Result<(), AppError> {
    let ended = revoke(&state.pool, actor, name).await?;
    events::publish(
        &state.hub,
        ended
            .into_iter()
            .map(|session_id| DomainEvent::SessionRevoked { session_id }),
    );
    Ok(())
}

/// Like a username: it appears in the audit log as `key:<name>`.
fn validate_name(name: &str) -> Result<(), AppError> {
    crate::server::usecases::accounts::check_name("name", name)
}
