//! Who is calling a route that services may call: a signed-in user or a
//! service key. Routes for signed-in users take [`Session`] (which refuses
//! any key); routes a service may call take [`Caller`], and the use case
//! behind them asks [`Caller::require`] for the scope it needs. One rule,
//! for every entry: an admin session may do what any scope allows; a user
//! session none of it; a key what its scopes list.

use axum::{extract::FromRequestParts, http::request::Parts};
use http::HeaderMap;

use super::{
    service_key::{self, ServiceKey},
    session::{authenticate, bearer_token},
    Session, SessionCheck,
};
use crate::{
    model::{AppError, Scope},
    server::store::audit::Actor,
};

#[derive(Debug, Clone)]
pub enum Caller {
    User(Session),
    Service(ServiceKey),
}

impl Caller {
    /// 403 unless the caller may act with `scope`; a key's refusal names
    /// the scope it lacks.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        let allowed = match self {
            Caller::User(session) => session.is_admin(),
            Caller::Service(key) => key.scopes.contains(&scope),
        };
        match (allowed, self) {
            (true, _) => Ok(()),
            (false, Caller::User(_)) => Err(AppError::Forbidden),
            (false, Caller::Service(_)) => Err(AppError::Refused(format!(
                "this API key lacks the \"{scope}\" scope"
            ))),
        }
    }

    /// How the audit log names the caller: the user, or `key:<name>`.
    pub fn actor(&self) -> Actor<'_> {
        match self {
            Caller::User(session) => Actor {
                id: Some(session.user.id),
                name: &session.user.username,
            },
            Caller::Service(key) => Actor {
                id: None,
                name: &key.label,
            },
        }
    }

    /// What the caller's rate limit and `Idempotency-Key`s are kept under:
    /// `user:<id>` or `key:<id>`.
    pub fn owner(&self) -> String {
        match self {
            Caller::User(session) => session.owner(),
            Caller::Service(key) => format!("key:{}", key.id),
        }
    }

    /// The key, when a service key is calling.
    pub fn key_id(&self) -> Option<i64> {
        match self {
            Caller::User(_) => None,
            Caller::Service(key) => Some(key.id),
        }
    }

    /// The user, when a user is calling.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Caller::User(session) => Some(session.user.id),
            Caller::Service(_) => None,
        }
    }
}

/// A service key named in `Authorization: Bearer`, or else a session.
pub async fn identify(state: &impl SessionCheck, headers: &HeaderMap) -> Result<Caller, AppError> {
    match bearer_token(headers) {
        Some(token) if service_key::is_key(token) => service_key::verify(state.pool(), token)
            .await
            .map(Caller::Service),
        _ => authenticate(state, headers).await.map(Caller::User),
    }
}

impl<S: SessionCheck + Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        identify(state, &parts.headers).await
    }
}
