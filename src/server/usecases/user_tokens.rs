//! User tokens: a host app's backend, holding a `users` key, asks for a
//! short-lived token for one of its users and hands it to that user's page,
//! where Herald's bell (`clients/js`) uses it on the user's routes.
//!
//! Herald issues them, rather than each key holding a secret to sign its
//! own: a token is then a session row like a sign-in's (revoked with the
//! key, the user, or at its expiry, and its streams closed with it), the
//! signing secret never leaves Herald, and there is no second secret per key
//! to store, show once and rotate. The cost is one request from the host's
//! backend per token, every few minutes per user, and a session row that
//! the sweeper deletes once it has expired: `HERALD_USER_TOKENS_PER_MINUTE`
//! per key bounds the rows a looping or stolen key can write.

use crate::{
    model::{AppError, Scope, UserToken},
    server::{
        auth::Caller,
        state::AppState,
        store::{rfc3339, users},
        usecases::auth::issue_session,
    },
};

pub async fn issue(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<UserToken, AppError> {
    caller.require(Scope::Users)?;
    // A signed-in admin has a session of their own; minting other users'
    // sessions is for the host app's backend, which answers for them.
    let Some(key_id) = caller.key_id() else {
        return Err(AppError::Refused(
            "user tokens are issued to service keys (scope \"users\")".into(),
        ));
    };
    if !state.limits.user_tokens.allow(&caller.owner()) {
        return Err(AppError::RateLimited);
    }
    let user = users::find_by_name(&state.pool, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
    let issued = issue_session(state, &user, state.config.user_token_ttl, Some(key_id)).await?;
    Ok(UserToken {
        token: issued.token,
        expires_at: rfc3339(issued.expires_at_ms),
    })
}
