//! Server-side gates for the HTML pages: signed-out visitors are sent to
//! `/login`, users get a 403 page at `/admin`. The pages' server functions
//! check again on their own; this is what makes the first HTML honest.

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};

use crate::server::{auth::authenticate, state::AppState};

pub async fn guard_pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !matches!(path, "/" | "/admin" | "/login") {
        return next.run(req).await;
    }
    let session = authenticate(&state, req.headers()).await.ok();
    match (path, &session) {
        ("/login", Some(_)) => return Redirect::to("/").into_response(),
        ("/" | "/admin", None) => return Redirect::to("/login").into_response(),
        ("/admin", Some(s)) if !s.user.is_admin() => return forbidden_page(),
        _ => {}
    }
    if let Some(session) = session {
        req.extensions_mut().insert(session);
    }
    next.run(req).await
}

fn forbidden_page() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        Html(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>403 · Herald</title><link rel="stylesheet" href="/pkg/herald.css"></head>
<body><main class="page narrow"><h1>403 — admins only</h1>
<p data-testid="forbidden">This page is for Herald admins. Your account cannot open it.</p>
<p><a href="/">Back to your inbox</a></p></main></body></html>"#,
        ),
    )
        .into_response()
}
