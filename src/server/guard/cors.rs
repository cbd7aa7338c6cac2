//! CORS for pages on the origins in `HERALD_ALLOWED_ORIGINS`: on the user
//! routes, the ticket route and the stream only (`http::routes` says which),
//! nothing anywhere else and nothing for other origins.
//!
//! Without credentials: such a page authenticates with a user token in
//! `Authorization` (or a ticket in the stream's URL), never with Herald's
//! cookie, so the cross-site check for cookie sessions (`csrf`) is
//! unchanged. Preflights are answered here, before any route, and cached
//! by the browser for [`PREFLIGHT_CACHE`].

use std::time::Duration;

use http::{header, HeaderName, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::server::auth::AllowedOrigins;

pub const PREFLIGHT_CACHE: Duration = Duration::from_secs(600);

/// `None` when no other origin is allowed: the routes get no layer at all.
pub fn layer(allowed: &AllowedOrigins) -> Option<CorsLayer> {
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed.list().iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
                HeaderName::from_static("idempotency-key"),
            ])
            .allow_credentials(false)
            .max_age(PREFLIGHT_CACHE),
    )
}
