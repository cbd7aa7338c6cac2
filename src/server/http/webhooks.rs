//! Webhook routes (`/api/webhooks`): an admin session, or a service key
//! with both `read` and `publish`. Parse, call `usecases::webhooks`, shape
//! the answer.

use axum::{extract::State, http::StatusCode};

use crate::{
    model::{
        webhooks::NewWebhookBody, AppError, CreatedWebhook, Envelope, FlatEnvelope, WebhookView,
    },
    server::{
        auth::Caller,
        http::{
            id_path::IdPath,
            json::ApiJson,
            openapi::errors::{
                BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
                UnsupportedMediaType,
            },
        },
        state::AppState,
        usecases::webhooks,
    },
};

/// Register an endpoint for some events.
///
/// The answer carries the endpoint's signing secret (`whsec_<base64>`), shown this once.
/// Loopback and private addresses are refused unless `HERALD_WEBHOOK_ALLOW_PRIVATE=1`.
#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "Registered; the secret is shown once.", body = FlatEnvelope<CreatedWebhook>),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read", "publish"]))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, FlatEnvelope<CreatedWebhook>), AppError> {
    let actor = webhooks::authorize(&caller)?;
    let created = webhooks::create(
        &state.pool,
        actor,
        state.config.webhook_allow_private,
        &body.url,
        &body.events,
    )
    .await?;
    Ok((StatusCode::CREATED, FlatEnvelope::ok(created)))
}

/// The endpoints, with their latest delivery attempts (never a secret).
#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "webhooks",
    operation_id = "list_webhooks",
    responses(
        (status = 200, description = "The endpoints.", body = Envelope<Vec<WebhookView>>),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read", "publish"]))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<WebhookView>>, AppError> {
    webhooks::authorize(&caller)?;
    Ok(Envelope::ok(webhooks::list(&state.pool).await?))
}

/// Remove an endpoint: nothing more is sent to it.
#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    operation_id = "remove_webhook",
    params(("id" = i64, Path, description = "The endpoint's `id`.")),
    responses(
        (status = 204, description = "Removed."),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read", "publish"]))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    let actor = webhooks::authorize(&caller)?;
    webhooks::remove(&state.pool, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
