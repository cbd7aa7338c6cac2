//! A user's Web Push subscriptions (docs/escalation.md, "Web Push"): the
//! key browsers subscribe with, and adding or removing one browser. What
//! is pushed, and when, is escalation's (`usecases::escalation`).

use crate::{
    model::{
        push::{PushEndpointBody, PushSubscriptionBody, VapidPublicKey},
        AppError,
    },
    server::{
        auth::Session, domain::push, state::AppState, store::push as subscriptions,
        webhook::address,
    },
};

/// Push is off (PostgreSQL without `HERALD_VAPID_PRIVATE_KEY`): 404.
fn off() -> AppError {
    AppError::NotFound("Web Push (no VAPID key configured)".into())
}

pub fn public_key(state: &AppState) -> Result<VapidPublicKey, AppError> {
    let vapid = state.push.as_ref().ok_or_else(off)?;
    Ok(VapidPublicKey {
        public_key: vapid.public_key().to_string(),
    })
}

/// Stores the browser's subscription for the signed-in user. Its endpoint
/// must be https on a public address (as a webhook's), unless
/// `HERALD_WEBHOOK_ALLOW_PRIVATE` is set.
pub async fn subscribe(
    state: &AppState,
    session: &Session,
    body: PushSubscriptionBody,
) -> Result<(), AppError> {
    if state.push.is_none() {
        return Err(off());
    }
    let allow_private = state.config.webhook_allow_private;
    let subscription = push::parse(body, allow_private)?;
    if !allow_private {
        let url = reqwest::Url::parse(&subscription.endpoint)
            .map_err(|_| AppError::invalid("endpoint", "must be an absolute https URL"))?;
        address::check_public(&url)
            .await
            .map_err(|reason| AppError::invalid("endpoint", reason))?;
    }
    subscriptions::subscribe(
        &state.pool,
        session.user.id,
        &subscription.endpoint,
        &subscription.p256dh,
        &subscription.auth,
    )
    .await?;
    Ok(())
}

/// Removes the browser's subscription (nothing if it was not the user's).
pub async fn unsubscribe(
    state: &AppState,
    session: &Session,
    body: PushEndpointBody,
) -> Result<(), AppError> {
    let endpoint = push::parse_unsubscribe(body)?;
    subscriptions::unsubscribe(&state.pool, session.user.id, &endpoint).await?;
    Ok(())
}
