//! Signing in and out.

use std::{net::IpAddr, time::Duration};

use crate::{
    model::{AppError, UserView},
    server::{
        auth::{jwt::Claims, password, Session},
        events::{self, DomainEvent},
        state::AppState,
        store::{now_ms, sessions, users},
    },
};

pub struct LoggedIn {
    pub token: String,
    pub user: UserView,
    pub max_age: Duration,
}

/// Same answer, and about the same time, for an unknown user and a wrong password.
/// `client` is the caller's address, when known: failures are limited per
/// username and per address, so neither guessing one account's password nor
/// spraying many accounts from one place gets far.
#[tracing::instrument(skip(state, password))]
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<LoggedIn, AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::invalid("username", "is required"));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "is required"));
    }
    let limiter = &state.limits.login_failures;
    let user_key = format!("user:{username}");
    let client_key = client.map(|ip| format!("ip:{ip}"));
    if limiter.is_exhausted(&user_key)
        || client_key
            .as_deref()
            .is_some_and(|k| limiter.is_exhausted(k))
    {
        tracing::warn!("sign-in rate-limited");
        return Err(AppError::RateLimited);
    }
    let user = users::find_by_name(&state.pool, username).await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_string());
    let password = password.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &phc))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check task failed");
            AppError::Internal
        })?;
    let user = match (user, matches) {
        (Some(user), true) => user,
        _ => {
            tracing::info!("sign-in refused");
            limiter.record(&user_key);
            if let Some(key) = &client_key {
                limiter.record(key);
            }
            return Err(AppError::BadCredentials);
        }
    };
    limiter.forget(&user_key);

    let ttl = state.config.session_ttl;
    let now = now_ms();
    let expires = now + ttl.as_millis() as i64;
    let sid = new_session_id()?;
    sessions::insert(&state.pool, &sid, user.id, expires).await?;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role(),
        sid,
        iat: now / 1000,
        exp: expires / 1000,
    };
    let token = state.keys.issue(&claims).map_err(|e| {
        tracing::error!(error = %e, "signing a session token failed");
        AppError::Internal
    })?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(LoggedIn {
        token,
        user: user.view(),
        max_age: ttl,
    })
}

/// Revokes the session and closes the streams it opened.
pub async fn logout(state: &AppState, session: &Session) -> Result<(), AppError> {
    sessions::revoke(&state.pool, &session.session_id).await?;
    events::publish(
        &state.hub,
        [DomainEvent::SessionRevoked {
            session_id: session.session_id.clone(),
        }],
    );
    tracing::info!(user_id = session.user.id, "signed out");
    Ok(())
}

fn new_session_id() -> Result<String, AppError> {
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session id");
        AppError::Internal
    })?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}
