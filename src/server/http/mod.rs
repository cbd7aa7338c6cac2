//! The JSON API and the plain HTTP routes (everything that is not a page or
//! a server function).

mod api;
pub mod assets;
pub mod error;
mod id_path;
mod idempotency_key;
mod json;
mod metrics;
mod pages;
mod server_fns;
mod target;
mod users;
mod webhooks;

use axum::{
    extract::DefaultBodyLimit,
    routing::{delete, get, post},
    Router,
};

use crate::server::{sse, state::AppState};

pub use pages::guard_pages;
pub use server_fns::server_fn_doors;
pub use target::refuse_odd_targets;

/// Request bodies above this get 413, on the JSON routes and the server
/// functions alike.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(api::login))
        .route("/api/auth/logout", post(api::logout))
        .route("/api/me", get(api::me))
        .route("/api/notifications", get(api::notifications))
        .route("/api/notifications/read-all", post(api::mark_all_read))
        .route("/api/notifications/{id}/read", post(api::mark_read))
        .route("/api/notifications/{id}/archive", post(api::archive))
        .route("/api/exports", post(api::start_export))
        .route("/api/exports/{task_id}", get(api::export_result))
        .route("/api/announcements", get(api::history))
        .route("/api/announcements/{id}", delete(api::retract))
        .route("/api/audit", get(api::audit_log))
        .route("/api/users", post(users::create))
        .route(
            "/api/users/{username}",
            get(users::get).patch(users::set_role).delete(users::delete),
        )
        .route("/api/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/webhooks/{id}", delete(webhooks::remove))
        .route("/api/sse/stats", get(api::stats))
        .route("/api/sse/broadcast", post(api::broadcast))
        .route("/api/sse/send-to-user", post(api::send_to_user))
        .route("/sse/stream", get(sse::stream))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The browser bundle (`assets`): to be merged outside the compression
/// layer, since it was compressed at build time.
pub fn bundle_routes() -> Router<AppState> {
    Router::new().route("/pkg/{*file}", get(assets::bundle_file))
}
