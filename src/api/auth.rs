//! Signing in and out from the pages.

use leptos::prelude::*;

use crate::model::{AppError, UserView};

/// Signs in and sets the session cookie. Without JS the browser is
/// redirected (to `/`, or back to `/login?failed` on bad credentials);
/// with JS the page reloads itself on success.
#[server]
pub async fn login(username: String, password: String) -> Result<(), AppError> {
    use super::ssr::{is_plain_form_post, state};
    use crate::server::usecases::{self, auth::SignInFrom};
    use leptos_axum::{redirect, ResponseOptions};

    let state = state()?;
    let parts = use_context::<http::request::Parts>();
    let from = SignInFrom::request(
        &state,
        parts.as_ref().and_then(|p| {
            p.extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        }),
        parts
            .as_ref()
            .map(|p| &p.headers)
            .unwrap_or(&http::HeaderMap::new()),
    );
    match usecases::auth::login(&state, &username, &password, &from).await {
        Ok(signed_in) => {
            let response = expect_context::<ResponseOptions>();
            for cookie in signed_in.cookies(state.config.secure_cookies) {
                response.append_header(http::header::SET_COOKIE, cookie);
            }
            if is_plain_form_post() {
                redirect("/");
            }
            Ok(())
        }
        Err(err) => {
            if is_plain_form_post() {
                redirect("/login?failed=1");
            }
            Err(err)
        }
    }
}

/// Revokes this session (closing its streams) and clears the cookie.
#[server]
pub async fn logout() -> Result<(), AppError> {
    use super::ssr::{is_plain_form_post, session, state};
    use crate::server::{auth::clear_cookie, usecases};
    use leptos_axum::{redirect, ResponseOptions};

    let state = state()?;
    if let Ok(session) = session(&state).await {
        usecases::auth::logout(&state, &session).await?;
    }
    expect_context::<ResponseOptions>().append_header(
        http::header::SET_COOKIE,
        clear_cookie(state.config.secure_cookies),
    );
    if is_plain_form_post() {
        redirect("/login");
    }
    Ok(())
}

/// The signed-in user, or `None`.
#[server]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    match session(&state).await {
        Ok(session) => Ok(Some(session.user)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(other) => Err(other),
    }
}
