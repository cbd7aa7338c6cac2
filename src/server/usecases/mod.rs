//! Use cases: what Herald does, independent of how it was asked (server
//! function, JSON API, CLI). Each checks its own authorization, writes to
//! the store first, then publishes domain events.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod categories;
pub mod escalation;
pub mod export;
pub mod idempotency;
pub mod inbox;
pub mod keys;
pub mod notices;
pub mod preferences;
pub mod provisioning;
pub mod push;
pub mod retract;
pub mod schedule;
pub mod send;
pub mod snooze;
pub mod user_tokens;
pub mod webhooks;

use crate::{model::AppError, server::auth::Session};

/// The one admin check every admin-only use case starts with, before it
/// looks anything up (a refusal must not tell whether a name exists).
pub(crate) fn require_admin(session: &Session) -> Result<(), AppError> {
    if session.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
