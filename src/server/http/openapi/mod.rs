//! The API document (`GET /api/openapi.json`, OpenAPI 3.1), the stream's
//! event schemas (`GET /api/event-schemas.json`) and a page that lists the
//! document (`GET /api/docs`), all generated from the types: each JSON
//! route is registered with its `#[utoipa::path]` entry in one call
//! (`http::documented_routes`), and every body is a `src/model` type that
//! derives its schema. The document cannot drift from the routes: a route
//! registered any other way fails `tests/integration/api_doc.rs`.
//!
//! All three are built once, when the router is (`Published`), and served
//! as they are.

pub mod errors;
pub mod events;
mod page;
pub mod params;

use std::sync::Arc;

use axum::{
    http::header,
    response::{IntoResponse, Response},
    Extension,
};
use utoipa::{
    openapi::{
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as Document,
    },
    Modify, OpenApi,
};

use crate::{model::ErrorBody, server::auth::SESSION_COOKIE};
use errors::{TooManyRequests, Unauthorized, Unavailable};

/// Names of the security schemes, as the routes' `security(…)` cite them.
pub const SESSION_COOKIE_SCHEME: &str = "session_cookie";
pub const SESSION_BEARER_SCHEME: &str = "session_bearer";
pub const API_KEY_SCHEME: &str = "api_key";

/// What the routes add to: the document's description, its tags, the
/// security schemes, the error body, and the stream (served outside the
/// JSON router, by `sse::stream` or the direct path).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "A live notification center's HTTP API. Successes of the signed-in user's own routes are the bare object; those of the admin and service routes are `{\"success\":true,\"data\":…}`; every refusal is `{\"success\":false,\"error\":\"…\"}` with the status that says what happened. The stream's events are described by `/api/event-schemas.json`."
    ),
    paths(stream),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "session", description = "Signing in and out, and who is signed in."),
        (name = "inbox", description = "The signed-in user's notifications and exports."),
        (name = "publishing", description = "Announcements: broadcast, send to a user, retract (an admin, or a key with the `publish` scope)."),
        (name = "reading", description = "Stream stats, the announcements' history, the audit log (an admin, or a key with the `read` scope)."),
        (name = "users", description = "Provisioning accounts (an admin, or a key with the `users` scope), and user tokens for a host app's pages (a `users` key)."),
        (name = "stream", description = "The live stream of a user's events."),
        (name = "documents", description = "This document, the stream's event schemas, and a page listing both."),
    )
)]
pub struct BaseDocument;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The browser's session, set by sign-in (HttpOnly, SameSite=Lax). A state change \
                 that rides on it from another site is refused (403). Requirements name the role \
                 a route needs.",
            ))),
        );
        components.add_security_scheme(
            SESSION_BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Authorization: Bearer <token>`: the `token` sign-in answers, or a user \
                         token a host app's backend got from `POST /api/users/{username}/tokens` \
                         (user routes only, from `HERALD_ALLOWED_ORIGINS` when a browser sends it; \
                         never an admin's rights). Requirements name the role a route needs.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            API_KEY_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("hrld_<12 hex>_<64 hex>")
                    .description(Some(
                        "A service API key, `Authorization: Bearer hrld_…`, made by an admin \
                         (console or `herald key add NAME --scope …`). Scopes: `publish` \
                         (broadcast, send to a user, retract), `read` (stream stats, \
                         announcements, audit), `users` (provisioning, user tokens). Requirements name the \
                         scope a route needs; outside it a key gets 403 naming the scope, a \
                         revoked key 401. A key is never a user session: routes for a signed-in \
                         user answer it 401.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Open the signed-in user's live stream (Server-Sent Events).
///
/// `text/event-stream`, never compressed. Events, in order: `connected` (with `retry:`), then
/// the stored entries after `Last-Event-ID` (or `?last_event_id=`) when given, then live ones;
/// `ping` every `HERALD_PING_SECS`. `notification` (or an admin's custom name) and
/// `notification.removed` carry `id:`, the entry's log position, to resume from. A client the
/// server cannot bring up to date without a gap gets `resync` and refetches its inbox. Each
/// event's `data:` is one JSON object, described by `GET /api/event-schemas.json`.
#[utoipa::path(
    get,
    path = "/sse/stream",
    tag = "stream",
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "The last `id:` this client applied: the stream replays what came after it."),
        ("last_event_id" = Option<String>, Query, description = "The same, for clients that cannot set the header (the header wins)."),
        ("ticket" = Option<String>, Query, description = "A single-use ticket from `POST /api/stream-tickets`, for pages (on another origin) whose `EventSource` cannot send a bearer. When given, it alone authenticates: used, expired or forged, it gets 401."),
    ),
    responses(
        (status = 200, description = "The stream: one event per frame, `data:` per `/api/event-schemas.json`.", body = String, content_type = "text/event-stream"),
        Unauthorized,
        TooManyRequests,
        Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
#[allow(dead_code)] // The route is `sse::stream`; this is its entry in the document.
fn stream() {}

/// The document, the event schemas and the page, built once.
#[derive(Clone)]
pub struct Published(Arc<Documents>);

struct Documents {
    openapi: String,
    event_schemas: String,
    page: String,
}

impl Published {
    pub fn new(document: &Document) -> Published {
        let openapi = serde_json::to_value(document).expect("the API document is JSON");
        Published(Arc::new(Documents {
            page: page::render(&openapi),
            openapi: openapi.to_string(),
            event_schemas: events::event_schemas().to_string(),
        }))
    }
}

fn json(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "documents",
    responses(
        (status = 200, description = "This document, OpenAPI 3.1.", body = serde_json::Value, content_type = "application/json"),
    ),
    security(())
)]
pub async fn openapi_json(Extension(published): Extension<Published>) -> Response {
    json(&published.0.openapi)
}

/// The JSON Schema of each stream event's `data:`.
///
/// `{"<event name>": <JSON Schema 2020-12>, …}`, one for each event the stream
/// sends (`connected`, `ping`, `notification`, `notification.read`, `notification.removed`,
/// `progress`, `resync`); `"*"` is the schema of an admin's custom event names, which share
/// the `notification` shape. Each schema's `$id` carries the version.
#[utoipa::path(
    get,
    path = "/api/event-schemas.json",
    tag = "documents",
    responses(
        (status = 200, description = "The event schemas, by event name.", body = serde_json::Value, content_type = "application/json"),
    ),
    security(())
)]
pub async fn event_schemas_json(Extension(published): Extension<Published>) -> Response {
    json(&published.0.event_schemas)
}

/// A page listing this document's operations, schemas and security schemes.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "documents",
    responses(
        (status = 200, description = "HTML, made by the server from this document (no script, nothing fetched).", body = String, content_type = "text/html"),
    ),
    security(())
)]
pub async fn docs_page(Extension(published): Extension<Published>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        published.0.page.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
