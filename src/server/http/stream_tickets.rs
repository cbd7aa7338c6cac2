//! `POST /api/stream-tickets`: a single-use ticket to open the caller's
//! stream with (`auth::stream_ticket` says why and what it costs).

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    model::{AppError, StreamTicket},
    server::{
        auth::{stream_ticket, Session},
        http::openapi::errors::{Forbidden, TooManyRequests, Unauthorized, Unavailable},
        state::AppState,
    },
};

/// A single-use stream ticket.
///
/// For pages whose `EventSource` cannot send a bearer (another origin, a
/// user token): open `/sse/stream?ticket=<ticket>` within about 30 seconds.
/// The first request that shows it takes it; every reconnect asks for a new
/// one. At most 16 unexpired tickets per user (429 beyond). No body.
#[utoipa::path(
    post,
    path = "/api/stream-tickets",
    tag = "stream",
    responses(
        (status = 201, description = "The ticket, bound to the caller's session.", body = StreamTicket),
        Unauthorized, Forbidden, TooManyRequests, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
) -> Result<(StatusCode, Json<StreamTicket>), AppError> {
    let minted = stream_ticket::mint(&state, &session).await?;
    Ok((
        StatusCode::CREATED,
        Json(StreamTicket {
            ticket: minted.ticket,
            expires_at: minted.expires_at,
        }),
    ))
}
