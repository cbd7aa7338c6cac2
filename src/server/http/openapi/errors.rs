//! The refusals a route can answer, one type per status, each an
//! [`ErrorBody`] (`{"success":false,"error":"…"}`): a route's
//! `#[utoipa::path(responses(…))]` lists the ones it can return, next to
//! its success. What each status means is the table in `http::error`
//! (`status_of`) and the README's API section; the message says which case.

use utoipa::IntoResponses;

use crate::model::ErrorBody;

/// 400.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "Malformed JSON, a missing or mistyped field, or a field check that failed; the message names the field."
)]
pub struct BadRequest(pub ErrorBody);

/// 401.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No credentials, or invalid, expired or revoked ones (a revoked API key included); on routes for a signed-in user, also an API key, which is never a session."
)]
pub struct Unauthorized(pub ErrorBody);

/// 403.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Not allowed: a session that is not an admin's, an API key without the scope (the message names it), or a cookie-authenticated state change from another site."
)]
pub struct Forbidden(pub ErrorBody);

/// 404.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such thing (the message says what).")]
pub struct NotFound(pub ErrorBody);

/// 409.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "The request clashes with what exists (a taken username)."
)]
pub struct Conflict(pub ErrorBody);

/// 413.
#[derive(IntoResponses)]
#[response(status = 413, description = "The body is over 64 KiB.")]
pub struct PayloadTooLarge(pub ErrorBody);

/// 415.
#[derive(IntoResponses)]
#[response(
    status = 415,
    description = "The body is not sent as `Content-Type: application/json`."
)]
pub struct UnsupportedMediaType(pub ErrorBody);

/// 422.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "An `Idempotency-Key` reused for a different request."
)]
pub struct Unprocessable(pub ErrorBody);

/// 429.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "A rate limit or a cap on concurrent work (failed sign-ins, announcements, exports, streams); retry later."
)]
pub struct TooManyRequests(pub ErrorBody);

/// 503.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "The server is at one of its own capacity limits, or its database is unavailable; nothing was done, retry shortly."
)]
pub struct Unavailable(pub ErrorBody);
