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
mod prefs;
mod push;
pub mod sdk;
mod server_fns;
mod service_worker;
mod stream_tickets;
mod target;
mod users;
mod webhooks;

use axum::{extract::DefaultBodyLimit, routing::get, Extension, Router};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::server::{auth::AllowedOrigins, guard, sse, state::AppState};

pub use pages::guard_pages;
pub use server_fns::server_fn_doors;
pub use target::refuse_odd_targets;

/// Request bodies above this get 413, on the JSON routes and the server
/// functions alike.
pub const BODY_LIMIT: usize = 64 * 1024;

/// `allowed`: the other origins whose pages get CORS on the user routes
/// and the stream (`guard::cors`).
pub fn routes(allowed: &AllowedOrigins) -> Router<AppState> {
    let cors = guard::cors::layer(allowed);
    let (user_api, _) = user_routes().split_for_parts();
    let stream = Router::new().route("/sse/stream", get(sse::stream));
    let (user_api, stream) = match cors {
        Some(cors) => (user_api.layer(cors.clone()), stream.layer(cors)),
        None => (user_api, stream),
    };
    let (other_api, _) = other_routes().split_for_parts();
    let document = documented_routes().into_openapi();
    user_api
        .merge(other_api)
        .layer(Extension(openapi::Published::new(&document)))
        // Not JSON: documented by hand (the stream, in `openapi`) or not at all.
        .merge(stream)
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/sw.js", get(service_worker::service_worker))
        .route("/sdk/{file}", get(sdk::stable))
        .route("/sdk/{release}/{file}", get(sdk::versioned))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Every route under `/api`, each registered together with its document
/// entry (the handler's `#[utoipa::path]`): add one to [`user_routes`] or
/// [`other_routes`], never with `.route(…)`, or `tests/integration/api_doc.rs` fails.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::BaseDocument as utoipa::OpenApi>::openapi())
        .merge(user_routes())
        .merge(other_routes())
}

/// The signed-in user's own routes: what a user token may call, and what
/// pages on `HERALD_ALLOWED_ORIGINS` get CORS for.
fn user_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::me))
        .routes(routes!(api::notifications))
        .routes(routes!(prefs::mark_all_read))
        .routes(routes!(prefs::click))
        .routes(routes!(prefs::categories))
        .routes(routes!(prefs::get_preferences, prefs::put_preferences))
        .routes(routes!(api::mark_read))
        .routes(routes!(api::archive))
        .routes(routes!(api::snooze))
        .routes(routes!(api::archive_read))
        .routes(routes!(api::archive_many))
        .routes(routes!(stream_tickets::create))
        .routes(routes!(push::vapid_public_key))
        .routes(routes!(push::subscribe, push::unsubscribe))
}

/// Everything else: signing in and out, exports, admin and service routes,
/// the documents. Same-origin only.
fn other_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::login))
        .routes(routes!(api::logout))
        .routes(routes!(prefs::set_category))
        .routes(routes!(api::start_export))
        .routes(routes!(api::export_result))
        .routes(routes!(api::history))
        .routes(routes!(api::retract))
        .routes(routes!(api::audit_log))
        .routes(routes!(users::create))
        .routes(routes!(users::get, users::set_role, users::delete))
        .routes(routes!(users::create_token))
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
