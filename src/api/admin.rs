//! The admin console's server functions. Each one checks the caller is an
//! admin in the use case it calls (the page guard is not relied upon).

// A server function's arguments are its form's fields, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::model::{AppError, ConsoleView, SentAnnouncement};

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
) -> Result<SentAnnouncement, AppError> {
    use super::ssr::{session, state};
    use crate::{
        model::{Channel, Role},
        server::{
            domain::announcement::AnnouncementDraft,
            usecases::{
                require_admin,
                send::{recipient_named, send},
            },
        },
    };
    let state = state()?;
    let session = session(&state).await?;
    let recipients = match target.as_deref().unwrap_or("all") {
        "all" => Channel::All,
        "role" => Channel::Role(
            role.as_deref()
                .and_then(Role::parse)
                .ok_or_else(|| AppError::invalid("role", "pick user or admin"))?,
        ),
        "user" => recipient_named(&state, &session, username.as_deref()).await?,
        _ => return Err(AppError::invalid("target", "must be all, role or user")),
    };
    // A user hears 403, not what is wrong with the draft (the use case checks
    // again; this keeps the refusal ahead of parsing).
    require_admin(&session)?;
    let announcement = AnnouncementDraft {
        event: None,
        title,
        body,
        severity,
        link,
        send_at,
        expires_at,
    }
    .parse()?;
    send(&state, &session, announcement, recipients).await
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
    let session = session(&state).await?;
    crate::server::usecases::retract::retract(&state, &session, id).await
}
