//! Request targets Herald serves: a path (`/x?y`, "origin form") or an
//! absolute URL. The authority form (`CONNECT host:443`, `GET host:443`) is
//! for proxies, and the asterisk form (`*`) for `OPTIONS` only; hyper passes
//! both on, and the page handler would panic on a target without a path
//! (leptos_axum unwraps `path_and_query`), dropping the connection
//! unanswered. They get a 400 here, before any route sees them.

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::server::http::error::error_response;

pub async fn refuse_odd_targets(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_path = uri.path_and_query().is_some() && uri.path().starts_with('/');
    if has_path {
        return next.run(req).await;
    }
    if req.method() == Method::OPTIONS && uri.path() == "*" {
        // "What does this server support?", asked of the server as a whole.
        return (
            StatusCode::NO_CONTENT,
            [(header::ALLOW, "GET, HEAD, POST, PATCH, DELETE, OPTIONS")],
        )
            .into_response();
    }
    error_response(
        StatusCode::BAD_REQUEST,
        "the request target must be a path such as /api/me",
    )
}
