//! The `{id}` of a route's path (`/api/notifications/{id}/read`,
//! `/api/announcements/{id}`): a whole number, or a 400 naming the field —
//! one extractor instead of a rejection mapped in every handler. Likewise
//! `{username}` (`/api/users/{username}`): text, or a 400 naming it.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};

use crate::model::AppError;

pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::invalid("id", "must be a whole number"))?;
        Ok(IdPath(id))
    }
}

pub struct NamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NamePath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::invalid("username", "must be UTF-8 text"))?;
        Ok(NamePath(name))
    }
}
