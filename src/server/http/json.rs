//! `ApiJson<T>`: axum's `Json` with our error shape on rejection.

use axum::{
    extract::{FromRequest, Request},
    response::Response,
    Json,
};
use serde::de::DeserializeOwned;

use crate::server::http::error::json_rejection;

pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}
