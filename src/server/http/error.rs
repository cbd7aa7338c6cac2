//! One place that turns an [`AppError`] into a status and a JSON body
//! `{"success":false,"error":"…"}`. Details of internal failures are logged
//! where they happen; the client gets a plain message.

use axum::{
    extract::rejection::JsonRejection,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    model::{AppError, ErrorBody},
    server::store::StoreError,
};

pub fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
        AppError::BadCredentials | AppError::Unauthorized | AppError::KeyIsNotASession => {
            StatusCode::UNAUTHORIZED
        }
        AppError::Forbidden | AppError::Refused(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::RateLimited | AppError::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(ErrorBody::new(message))).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        error_response(status_of(&self), &self.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            // The database is down or restarting (or SQLite stayed busy past
            // its timeout): nothing was done, and a retry shortly may work.
            tracing::warn!(error = %err, "database unavailable");
            return AppError::Unavailable;
        }
        tracing::error!(error = %err, "store failure");
        AppError::Internal
    }
}

/// Bad JSON bodies: say what is wrong with the right status (400, 413, 415).
pub fn json_rejection(rejection: JsonRejection) -> Response {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected Content-Type: application/json".to_string()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "request body is too large".to_string(),
        // serde's message names the missing or mistyped field.
        other => format!("invalid JSON body: {}", other.body_text()),
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    error_response(status, &message)
}
