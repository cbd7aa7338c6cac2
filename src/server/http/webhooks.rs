//! Webhook routes (`/api/webhooks`): an admin session, or a service key
//! with both `read` and `publish`. Parse, call `usecases::webhooks`, shape
//! the answer.

use axum::{extract::State, http::StatusCode};

use crate::{
    model::{webhooks::NewWebhookBody, AppError, CreatedWebhook, Envelope, WebhookView},
    server::{
        auth::Caller,
        http::{id_path::IdPath, json::ApiJson},
        state::AppState,
        usecases::webhooks,
    },
};

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Envelope<CreatedWebhook>), AppError> {
    let actor = webhooks::authorize(&caller)?;
    let created = webhooks::create(
        &state.pool,
        actor,
        state.config.webhook_allow_private,
        &body.url,
        &body.events,
    )
    .await?;
    Ok((StatusCode::CREATED, Envelope::ok(created)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<WebhookView>>, AppError> {
    webhooks::authorize(&caller)?;
    Ok(Envelope::ok(webhooks::list(&state.pool).await?))
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    let actor = webhooks::authorize(&caller)?;
    webhooks::remove(&state.pool, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
