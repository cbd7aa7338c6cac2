//! Server functions: thin doors that find the caller's session, call a use
//! case and map its errors. The JSON API calls the same use cases.

pub mod admin;
pub mod auth;
pub mod inbox;
pub mod push;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{
        model::AppError,
        server::{
            auth::{authenticate, Session},
            state::AppState,
        },
    };
    use leptos::prelude::use_context;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            AppError::Internal
        })
    }

    /// The caller's session: the one the page guard already verified for
    /// this request, or verified here from the request's headers.
    /// User tokens (a host app's) are refused here: these doors are Herald's own pages'.
    pub async fn session(state: &AppState) -> Result<Session, AppError> {
        let parts = use_context::<http::request::Parts>().ok_or(AppError::Unauthorized)?;
        let session = match parts.extensions.get::<Session>() {
            Some(session) => session.clone(),
            None => authenticate(state, &parts.headers).await?,
        };
        session.require_own_page()?;
        Ok(session)
    }

    /// True for a plain HTML form post (no JS): the answer must be a redirect.
    pub fn is_plain_form_post() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::ACCEPT).cloned())
            .and_then(|v| v.to_str().ok().map(|s| s.contains("text/html")))
            .unwrap_or(false)
    }
}
