//! The admin console's webhook server functions. Each one asks the use
//! case's one rule (`usecases::webhooks::authorize`) with the caller's
//! session: an admin passes, anyone else gets 403.

use leptos::prelude::*;

use crate::model::{AppError, CreatedWebhook, WebhookView};

/// Endpoints with their pending messages and latest attempts (no secret).
#[server]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use super::ssr::{session, state};
    use crate::server::{auth::Caller, usecases::webhooks};
    let state = state()?;
    let caller = Caller::User(session(&state).await?);
    webhooks::authorize(&caller)?;
    webhooks::list(&state.pool).await
}

/// Registers an endpoint for the ticked events (`events`: comma-separated);
/// the answer is the only time its secret is shown.
#[server]
pub async fn add_webhook(url: String, events: String) -> Result<CreatedWebhook, AppError> {
    use super::ssr::{session, state};
    use crate::server::{auth::Caller, usecases::webhooks};
    let state = state()?;
    let caller = Caller::User(session(&state).await?);
    let actor = webhooks::authorize(&caller)?;
    let events: Vec<String> = events
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    webhooks::create(
        &state.pool,
        actor,
        state.config.webhook_allow_private,
        &url,
        &events,
    )
    .await
}

/// Removes an endpoint and what it was still to be sent.
#[server]
pub async fn remove_webhook(id: i64) -> Result<(), AppError> {
    use super::ssr::{session, state};
    use crate::server::{auth::Caller, usecases::webhooks};
    let state = state()?;
    let caller = Caller::User(session(&state).await?);
    let actor = webhooks::authorize(&caller)?;
    webhooks::remove(&state.pool, actor, id).await
}
