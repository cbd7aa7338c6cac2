//! Server-side gates for the HTML pages: signed-out visitors are sent to
//! `/login`, users get a 403 page at `/admin` (however the path is spelled).
//! The pages' server functions check again on their own; this is what makes
//! the first HTML honest.

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};

use leptos::prelude::*;
use leptos_meta::HashedStylesheet;

use crate::server::{auth::authenticate, state::AppState};

pub async fn guard_pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(page) = page_of(req.uri().path()) else {
        return next.run(req).await;
    };
    let session = authenticate(&state, req.headers()).await.ok();
    match (page, &session) {
        (Page::Login, Some(_)) => return Redirect::to("/").into_response(),
        (Page::Home | Page::Admin, None) => return Redirect::to("/login").into_response(),
        (Page::Admin, Some(s)) if !s.is_admin() => return forbidden_page(&state.leptos_options),
        _ => {}
    }
    if let Some(session) = session {
        req.extensions_mut().insert(session);
    }
    next.run(req).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Home,
    Login,
    Admin,
}

/// The gated page a path may reach, however it is spelled: `/admin/`,
/// `//admin`, `/admin//x`, `/%61dmin`, `/./Admin`, `/x/../admin` all count as
/// the admin page. The spelling is normalised more generously than any router
/// would match it (percent-decoded, empty and dot segments dropped, either
/// slash, any case): guarding a path that would only have been a 404 costs
/// nothing, missing one that renders a page would be a hole.
fn page_of(path: &str) -> Option<Page> {
    let decoded = percent_decoded(path);
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    match segments.first() {
        None => Some(Page::Home),
        Some(first) if first.eq_ignore_ascii_case("admin") => Some(Page::Admin),
        Some(first) if first.eq_ignore_ascii_case("login") && segments.len() == 1 => {
            Some(Page::Login)
        }
        Some(_) => None,
    }
}

/// `%XX` escapes decoded, repeatedly (so `%2561` is `a` too); invalid UTF-8
/// replaced rather than refused.
fn percent_decoded(path: &str) -> String {
    let mut current = path.to_string();
    // Each round shortens the string or stops: bounded by its length.
    loop {
        let next = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if next == current {
            return next;
        }
        current = next;
    }
}

fn forbidden_page(options: &LeptosOptions) -> Response {
    // The shell's own stylesheet link, hashed name included.
    let stylesheet = view! { <HashedStylesheet options=options.clone() /> }.to_html();
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>403 · Herald</title>{stylesheet}</head>
<body><main class="page narrow"><h1>403 — admins only</h1>
<p data-testid="forbidden">This page is for Herald admins. Your account cannot open it.</p>
<p><a href="/">Back to your inbox</a></p></main></body></html>"#
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_admin_is_the_admin_page() {
        for path in [
            "/admin",
            "/admin/",
            "/admin//",
            "//admin",
            "/Admin",
            "/ADMIN/",
            "/%61dmin",
            "/%2561dmin",
            "/admin%2F",
            "/./admin",
            "/x/../admin",
            "/admin/anything",
            "\\admin",
        ] {
            assert_eq!(page_of(path), Some(Page::Admin), "{path}");
        }
    }

    #[test]
    fn home_login_and_the_rest() {
        for path in ["/", "//", "/.", "/%2F", "/x/.."] {
            assert_eq!(page_of(path), Some(Page::Home), "{path}");
        }
        for path in ["/login", "/login/", "/LOGIN", "//login"] {
            assert_eq!(page_of(path), Some(Page::Login), "{path}");
        }
        for path in [
            "/pkg/herald.js",
            "/healthz",
            "/administrator",
            "/%ZZ",
            "/api/x",
        ] {
            assert_eq!(page_of(path), None, "{path}");
        }
    }
}
