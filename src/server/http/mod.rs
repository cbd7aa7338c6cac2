//! The JSON API and the plain HTTP routes (everything that is not a page or
//! a server function).

mod api;
pub mod assets;
pub mod error;
mod id_path;
mod idempotency_key;
mod json;
mod metrics;
pub mod openapi;
mod pages;
mod server_fns;
mod target;
mod users;
mod webhooks;

use axum::{extract::DefaultBodyLimit, routing::get, Extension, Router};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::server::{sse, state::AppState};

pub use pages::guard_pages;
pub use server_fns::server_fn_doors;
pub use target::refuse_odd_targets;

/// Request bodies above this get 413, on the JSON routes and the server
/// functions alike.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    let (api, document) = documented_routes().split_for_parts();
    api.layer(Extension(openapi::Published::new(&document)))
        // Not JSON: documented by hand (the stream, in `openapi`) or not at all.
        .route("/sse/stream", get(sse::stream))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Every route under `/api`, each registered together with its document
/// entry (the handler's `#[utoipa::path]`): add one here, never with
/// `.route(…)`, or `tests/integration/api_doc.rs` fails.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::BaseDocument as utoipa::OpenApi>::openapi())
        .routes(routes!(api::login))
        .routes(routes!(api::logout))
        .routes(routes!(api::me))
        .routes(routes!(api::notifications))
        .routes(routes!(api::mark_all_read))
        .routes(routes!(api::mark_read))
        .routes(routes!(api::archive))
        .routes(routes!(api::snooze))
        .routes(routes!(api::archive_read))
        .routes(routes!(api::archive_many))
        .routes(routes!(api::start_export))
        .routes(routes!(api::export_result))
        .routes(routes!(api::history))
        .routes(routes!(api::retract))
        .routes(routes!(api::audit_log))
        .routes(routes!(users::create))
        .routes(routes!(users::get, users::set_role, users::delete))
        .routes(routes!(api::stats))
        .routes(routes!(api::broadcast))
        .routes(routes!(api::send_to_user))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::remove))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(openapi::event_schemas_json))
        .routes(routes!(openapi::docs_page))
}

/// The API document, as `GET /api/openapi.json` serves it.
pub fn api_document() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

/// The browser bundle (`assets`): to be merged outside the compression
/// layer, since it was compressed at build time.
pub fn bundle_routes() -> Router<AppState> {
    Router::new().route("/pkg/{*file}", get(assets::bundle_file))
}
