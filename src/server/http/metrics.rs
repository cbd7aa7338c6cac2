//! `GET /metrics`: the Prometheus text of `observe::metrics`.
//!
//! Open to loopback callers (a local scraper, or a reverse proxy on the same
//! host); anyone else needs `Authorization: Bearer $HERALD_METRICS_TOKEN`.

use std::net::SocketAddr;

use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use crate::server::{http::error::error_response, observe, state::AppState};

pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !allowed(&state, peer, &headers) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "metrics need the metrics token (or a loopback caller)",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        observe::metrics::render(&state),
    )
        .into_response()
}

fn allowed(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                // Constant time: the comparison must not tell how much of a guess was right.
                bool::from(
                    given
                        .trim()
                        .as_bytes()
                        .ct_eq(token.expose_secret().as_bytes()),
                )
            }),
        None => peer.ip().is_loopback(),
    }
}
