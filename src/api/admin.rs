//! The admin console's server functions. Each one checks the caller is an
//! admin in the use case it calls (the page guard is not relied upon).

// A server function's arguments are its form's fields, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::model::{AppError, ConsoleView, CreatedKey, KeyView, SentAnnouncement};

/// Sends (or schedules) an announcement. `target` is `all`, `role` (with
/// `role`) or `user` (with `username`).
#[server]
pub async fn send_announcement(
    title: String,
    body: String,
    severity: Option<String>,
    link: Option<String>,
    target: Option<String>,
    role: Option<String>,
    username: Option<String>,
    send_at: Option<String>,
    expires_at: Option<String>,
    category: Option<String>,
) -> Result<SentAnnouncement, AppError> {
    use super::ssr::{session, state};
    use crate::{
        model::{Channel, Role},
        server::{
            auth::Caller,
            domain::announcement::AnnouncementDraft,
            usecases::send::{recipient_named, send},
        },
    };
    let state = state()?;
    let admin = Caller::User(session(&state).await?);
    let recipients = match target.as_deref().unwrap_or("all") {
        "all" => Channel::All,
        "role" => Channel::Role(
            role.as_deref()
                .and_then(Role::parse)
                .ok_or_else(|| AppError::invalid("role", "pick user or admin"))?,
        ),
        "user" => recipient_named(&state, &admin, username.as_deref()).await?,
        _ => return Err(AppError::invalid("target", "must be all, role or user")),
    };
    // A user hears 403, not what is wrong with the draft (the use case checks
    // again; this keeps the refusal ahead of parsing).
    admin.require(crate::model::Scope::Publish)?;
    // The form has no event name, data or buttons: the draft's defaults.
    let announcement = AnnouncementDraft {
        title,
        body,
        severity,
        link,
        send_at,
        expires_at,
        category,
        ..AnnouncementDraft::default()
    }
    .parse()?;
    send(&state, &admin, announcement, recipients).await
}

/// History with its funnel, audit log, users and live hub numbers.
#[server]
pub async fn admin_console() -> Result<ConsoleView, AppError> {
    use super::ssr::{session, state};
    use crate::server::usecases::admin::console;
    let state = state()?;
    let session = session(&state).await?;
    let data = console(&state, &session).await?;
    let names: std::collections::HashMap<String, String> = data
        .users
        .iter()
        .map(|u| (u.id.to_string(), u.username.clone()))
        .collect();
    Ok(ConsoleView {
        history: data.history,
        audit: data.audit,
        users: data.users,
        total_streams: data.stats.total_clients,
        online: data
            .stats
            .user_clients
            .into_iter()
            .map(|(id, n)| (names.get(&id).cloned().unwrap_or(id), n))
            .collect(),
    })
}

/// Takes an announcement out of every inbox, live.
#[server]
pub async fn retract_announcement(id: i64) -> Result<(), AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let admin = crate::server::auth::Caller::User(session(&state).await?);
    crate::server::usecases::retract::retract(&state, &admin, id).await
}

/// Service API keys, newest live ones first (never a key or its hash).
#[server]
pub async fn list_keys() -> Result<Vec<KeyView>, AppError> {
    use super::ssr::{session, state};
    use crate::server::usecases::keys;
    let state = state()?;
    let session = session(&state).await?;
    keys::admin_actor(&session)?;
    keys::list(&state.pool).await
}

/// Creates a key with the ticked scopes (`scopes`: comma-separated, e.g.
/// `publish,read`); the answer is the only time the key is shown.
#[server]
pub async fn create_key(name: String, scopes: String) -> Result<CreatedKey, AppError> {
    use super::ssr::{session, state};
    use crate::{model::Scope, server::usecases::keys};
    let state = state()?;
    let session = session(&state).await?;
    let actor = keys::admin_actor(&session)?;
    let scopes = scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Scope::parse(s)
                .ok_or_else(|| AppError::invalid("scopes", format!("unknown scope {s:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    keys::create(&state.pool, actor, &name, &scopes).await
}

/// Revokes a key: every request with it is refused from now on.
#[server]
pub async fn revoke_key(name: String) -> Result<(), AppError> {
    use super::ssr::{session, state};
    use crate::server::usecases::keys;
    let state = state()?;
    let session = session(&state).await?;
    keys::revoke_and_close(&state, keys::admin_actor(&session)?, &name).await
}

/// Creates a category or renames it (admins).
#[server]
pub async fn set_category_label(
    slug: String,
    label: String,
) -> Result<crate::model::Category, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::categories::set_label(&state, &session, &slug, &label, None).await
}
