//! The `Idempotency-Key` request header, parsed once at the edge (see
//! `usecases::idempotency` for what a key does).

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    model::AppError,
    server::usecases::idempotency::{IdempotencyKey, HEADER},
};

/// The key, if the request carried one; 400 naming the header when it is
/// malformed or sent twice.
pub struct KeyHeader(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for KeyHeader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(HEADER).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(KeyHeader(None)),
            (Some(value), None) => Ok(KeyHeader(Some(IdempotencyKey::parse(value.as_bytes())?))),
            (Some(_), Some(_)) => Err(AppError::invalid(HEADER, "must be sent once")),
        }
    }
}
