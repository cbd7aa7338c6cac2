//! The span every request is logged in, whichever path serves it: the
//! router's `TraceLayer` makes it with this, and so does the direct stream
//! path (`sse/direct`), so both read the same in the logs.

use std::{net::SocketAddr, time::Duration};

use axum::extract::ConnectInfo;
use http::{Method, Request, Uri, Version};
use tracing::Span;

/// tower-http's default fields (`method`, `uri`, `version`) plus the client.
pub fn request_span(
    method: &Method,
    uri: &Uri,
    version: Version,
    client: Option<SocketAddr>,
) -> Span {
    match client {
        Some(client) => tracing::debug_span!(
            "request",
            method = %method,
            uri = %uri,
            version = ?version,
            client = %client,
        ),
        None => tracing::debug_span!(
            "request",
            method = %method,
            uri = %uri,
            version = ?version,
        ),
    }
}

/// For `TraceLayer::make_span_with`.
pub fn for_router<B>(request: &Request<B>) -> Span {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    request_span(request.method(), request.uri(), request.version(), client)
}

/// `latency` as tower-http's `DefaultOnResponse` writes it.
pub fn millis(elapsed: Duration) -> String {
    format!("{} ms", elapsed.as_millis())
}
