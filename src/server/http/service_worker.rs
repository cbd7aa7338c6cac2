//! `/sw.js`: the service worker the preferences page registers for Web Push
//! (shows a pushed digest, opens the inbox on a click). Served from the
//! root so its scope is the whole site; revalidated on every load (a
//! browser checks a worker for updates anyway, and a stale one would keep
//! old behaviour for a day).

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

const SOURCE: &str = include_str!("static/sw.js");

pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SOURCE,
    )
        .into_response()
}
