//! Errors, typed so the UI can show them properly and the JSON routes can
//! map each to one status (`server::http::error`).

use serde::{Deserialize, Serialize};

/// Errors a server function can return, typed so the UI can show them
/// properly (a field message next to its field, a sign-in prompt, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("wrong username or password")]
    BadCredentials,
    #[error("you need to sign in")]
    Unauthorized,
    /// A service API key on a route for signed-in users (the inbox, the
    /// stream, the pages): a key is never a user session (401).
    #[error("this route needs a signed-in user; a service API key cannot act as one")]
    KeyIsNotASession,
    #[error("admins only")]
    Forbidden,
    /// Refused whoever is asking (403), with the reason: a cross-site
    /// state change, for one.
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The request clashes with what exists (a taken username): 409.
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts, try again later")]
    RateLimited,
    /// A cap on concurrent work per user (429); the message says which.
    #[error("{0}")]
    LimitReached(String),
    /// A well-formed request that cannot be carried out as asked (e.g. an
    /// `Idempotency-Key` reused with a different body).
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    /// The server is at a capacity limit it set itself; retrying later works.
    #[error("the server is busy, try again shortly")]
    Unavailable,
    #[error("something went wrong on our side")]
    Internal,
    /// Transport or (de)serialization failure reported by the server-fn layer.
    #[error("request failed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        match value {
            // The request's own arguments did not decode (raised on the
            // server): a 400 naming the field, as the JSON routes answer.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                let field = field_named_in(&message).unwrap_or("form").to_string();
                AppError::invalid(&field, message)
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// serde names the field it stopped at in backquotes: ``missing field `id` ``.
fn field_named_in(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('`')?;
    let (field, _) = rest.split_once('`')?;
    (!field.is_empty()).then_some(field)
}
