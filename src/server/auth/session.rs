//! Who is asking: a session from the `herald_session` cookie or an
//! `Authorization: Bearer` header, checked against the signing key *and*
//! the sessions table (so logout revokes), with the role read fresh from
//! the users table (so a role change takes effect at once).

use axum::{extract::FromRequestParts, http::request::Parts};
use http::{header, HeaderMap, HeaderValue};

use super::{jwt::JwtKeys, origins::AllowedOrigins};
use crate::{
    model::{AppError, UserView},
    server::store::{sessions, Pool},
};

/// What checking a session needs: the signing keys, the sessions table and
/// the origins user tokens may be used from. `AppState` provides it; auth
/// itself knows nothing of the state.
pub trait SessionCheck {
    fn keys(&self) -> &JwtKeys;
    fn pool(&self) -> &Pool;
    fn allowed_origins(&self) -> &AllowedOrigins;
}

pub const SESSION_COOKIE: &str = "herald_session";

/// A verified, unrevoked session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserView,
    pub session_id: String,
    /// For a user token (issued to a host app's backend): the service key it
    /// was issued to. Such a session is the user's on their own routes only.
    pub host_key: Option<i64>,
}

impl Session {
    /// What the user's rate limits and `Idempotency-Key`s are kept under
    /// (a service key's are `key:<id>`, see `Caller::owner`).
    pub fn owner(&self) -> String {
        format!("user:{}", self.user.id)
    }

    /// Whether this session may use the admin doors: an admin's own
    /// sign-in. A user token never may, whoever its user is: a host app
    /// embeds a bell, not a console.
    pub fn is_admin(&self) -> bool {
        self.host_key.is_none() && self.user.is_admin()
    }

    /// Refuses user tokens at doors meant for Herald's own pages (server
    /// functions, exports): a user token is for the inbox routes and the stream.
    pub fn require_own_page(&self) -> Result<(), AppError> {
        match self.host_key {
            None => Ok(()),
            Some(_) => Err(AppError::Refused(
                "a user token is for the inbox routes and the stream only".into(),
            )),
        }
    }
}

pub async fn authenticate(
    state: &impl SessionCheck,
    headers: &HeaderMap,
) -> Result<Session, AppError> {
    let token = bearer_token(headers)
        .or_else(|| cookie_token(headers))
        .ok_or(AppError::Unauthorized)?;
    if super::service_key::is_key(token) {
        // Never tried as a session, nor looked up: a key is not one.
        return Err(AppError::KeyIsNotASession);
    }
    let claims = state.keys().verify(token).ok_or(AppError::Unauthorized)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| AppError::Unauthorized)?;
    let session = active_session(state, &claims.sid, user_id).await?;
    if session.host_key.is_some() {
        check_origin(state.allowed_origins(), headers)?;
    }
    Ok(session)
}

/// The session `session_id` of `user_id`, if it is still usable.
pub(super) async fn active_session(
    state: &impl SessionCheck,
    session_id: &str,
    user_id: i64,
) -> Result<Session, AppError> {
    let active = sessions::active(state.pool(), session_id, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Session {
        user: active.user,
        session_id: session_id.to_string(),
        host_key: active.key_id,
    })
}

/// A user token works from the allowed origins: a browser request from
/// any other page is refused (a request with no `Origin` is not a
/// browser's cross-origin one: the host app's backend, a script).
pub(super) fn check_origin(allowed: &AllowedOrigins, headers: &HeaderMap) -> Result<(), AppError> {
    match headers.get(header::ORIGIN) {
        Some(origin) if !allowed.allows(origin) => Err(AppError::Refused(
            "this origin may not use user tokens (HERALD_ALLOWED_ORIGINS)".into(),
        )),
        _ => Ok(()),
    }
}

/// True when the request names its session in `Authorization: Bearer`: then
/// the cookie is never consulted ([`authenticate`] takes the bearer first), so
/// the request carries no ambient authority a cross-site page could borrow.
pub fn carries_bearer(headers: &HeaderMap) -> bool {
    bearer_token(headers).is_some()
}

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The first non-empty value of cookie `wanted` in the request.
pub fn cookie_value<'h>(headers: &'h HeaderMap, wanted: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == wanted && !value.is_empty()).then_some(value)
        })
}

/// `Set-Cookie` for a fresh session.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    // A JWT is base64url plus dots, always a valid header value.
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("herald_session=; Path=/; Max-Age=0"))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "herald_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("herald_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
    }
}

impl<S: SessionCheck + Send + Sync> FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        let session = authenticate(state, &parts.headers).await?;
        parts.extensions.insert(session.clone());
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_in_either_place() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session=tok; b=2"),
        );
        assert_eq!(cookie_token(&h), Some("tok"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  abc "),
        );
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn cookie_flags() {
        let c = session_cookie("t", 60, false);
        assert_eq!(
            c,
            "herald_session=t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert!(session_cookie("t", 60, true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
