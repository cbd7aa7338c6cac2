//! The `{id}` of a route's path (`/api/notifications/{id}/read`,
//! `/api/announcements/{id}`): a whole number, or a 400 naming the field —
//! one extractor instead of a rejection mapped in every handler. Likewise
//! `{username}` (`/api/users/{username}`): text, or a 400 naming it.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};

use serde::de::DeserializeOwned;

use crate::model::AppError;

pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        path_param(parts, state, "id", "must be a whole number")
            .await
            .map(IdPath)
    }
}

pub struct NamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NamePath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        path_param(parts, state, "username", "must be UTF-8 text")
            .await
            .map(NamePath)
    }
}

/// The route's one path parameter as a `T`, or a 400 saying `field` `rule`.
async fn path_param<T, S>(
    parts: &mut Parts,
    state: &S,
    field: &str,
    rule: &str,
) -> Result<T, AppError>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    let Path(value) = Path::<T>::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::invalid(field, rule))?;
    Ok(value)
}
