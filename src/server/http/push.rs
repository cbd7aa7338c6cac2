//! Web Push's user routes (docs/escalation.md, "Web Push"): the VAPID
//! public key, and a browser subscribing or unsubscribing. A `Session`
//! each, like the preferences (an API key is never a user).

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    model::{
        push::{PushEndpointBody, PushSubscriptionBody, VapidPublicKey},
        AppError,
    },
    server::{
        auth::Session,
        http::{
            json::ApiJson,
            openapi::errors::{
                BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
                UnsupportedMediaType,
            },
        },
        state::AppState,
        usecases,
    },
};

/// The server's VAPID public key, the `applicationServerKey` for `PushManager.subscribe`.
///
/// 404 when Web Push is off (PostgreSQL without `HERALD_VAPID_PRIVATE_KEY`).
#[utoipa::path(
    get,
    path = "/api/push/vapid-public-key",
    tag = "inbox",
    responses(
        (status = 200, description = "base64url of the uncompressed P-256 point.", body = VapidPublicKey),
        Unauthorized, NotFound, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn vapid_public_key(
    State(state): State<AppState>,
    _session: Session,
) -> Result<Json<VapidPublicKey>, AppError> {
    Ok(Json(usecases::push::public_key(&state)?))
}

/// Subscribe this browser to Web Push: the body is `PushSubscription.toJSON()`.
///
/// What stays unread and reached none of the user's streams for the escalation delay is
/// pushed to it (as email escalation would email it; the same settings apply). The endpoint
/// must be https on a public address. At most 10 browsers per user: a new one replaces the
/// oldest. Subscribing an endpoint again replaces its keys (and moves it to this user).
#[utoipa::path(
    post,
    path = "/api/push/subscriptions",
    tag = "inbox",
    request_body = PushSubscriptionBody,
    responses(
        (status = 204, description = "Subscribed."),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn subscribe(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<PushSubscriptionBody>,
) -> Result<StatusCode, AppError> {
    usecases::push::subscribe(&state, &session, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unsubscribe a browser of the signed-in user (nothing happens if it is not theirs).
#[utoipa::path(
    delete,
    path = "/api/push/subscriptions",
    tag = "inbox",
    request_body = PushEndpointBody,
    responses(
        (status = 204, description = "No longer subscribed."),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<PushEndpointBody>,
) -> Result<StatusCode, AppError> {
    usecases::push::unsubscribe(&state, &session, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
