//! What server functions answer besides their result, in one place for all
//! of them, so a refusal reads the same as on the JSON routes:
//! - bodies over [`crate::server::http::BODY_LIMIT`] get 413 before the function decodes anything
//!   (server_fn would otherwise read up to axum's default 2 MB);
//! - a returned [`AppError`] gets its status from [`status_of`], the JSON
//!   routes' table: server_fn answers every error with 500.
//!
//! The body stays the typed error the client decodes (it reads any 4xx/5xx
//! body as an `AppError`). A plain form post (no JS) is redirected by
//! leptos_axum and keeps its redirect: a browser follows only a 3xx.
//!
//! Runs on the pages router, where leptos_axum mounts the server functions;
//! pages are GETs, whose bodies are never read here.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use crate::model::AppError;
use crate::server::http::error::status_of;

/// An error body is a few hundred bytes; more is not one of ours.
const ERROR_BODY_MAX: usize = 64 * 1024;

/// Needs `DefaultBodyLimit::max(BODY_LIMIT)` layered outside it (the limit travels in
/// the request's extensions, where axum's `Bytes` extractor and server_fn
/// both read it).
pub async fn server_fn_doors(req: Request, next: Next) -> Response {
    let req = if matches!(*req.method(), Method::GET | Method::HEAD) {
        req
    } else {
        let (parts, body) = req.into_parts();
        let request = Request::from_parts(parts.clone(), body);
        match Bytes::from_request(request, &()).await {
            Ok(bytes) => Request::from_parts(parts, Body::from(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return typed_error(AppError::PayloadTooLarge);
            }
            Err(rejection) => return typed_error(AppError::invalid("body", rejection.body_text())),
        }
    };
    with_error_status(next.run(req).await).await
}

/// server_fn's 500 for a returned error, turned into the error's own status.
async fn with_error_status(res: Response) -> Response {
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY_MAX).await else {
        return typed_error(AppError::Internal);
    };
    parts.status = status_of(&AppError::de(bytes.clone()));
    Response::from_parts(parts, Body::from(bytes))
}

fn typed_error(err: AppError) -> Response {
    let status = status_of(&err);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        err.ser(),
    )
        .into_response()
}
