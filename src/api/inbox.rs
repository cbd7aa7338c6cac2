//! The signed-in user's inbox. Every function acts on the caller's own
//! notifications only (the use cases scope every query by user id).

use leptos::prelude::*;

use crate::model::{AppError, InboxPage};

/// A page of the inbox: the newest, or those older than `before` (a position).
#[server]
pub async fn get_inbox(before: Option<i64>) -> Result<InboxPage, AppError> {
    use super::ssr::{session, state};
    use crate::server::usecases::inbox;
    let state = state()?;
    let session = session(&state).await?;
    inbox::inbox_page(&state, &session, before).await
}

/// Returns the new unread count.
#[server]
pub async fn mark_read(id: i64) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::mark_read(&state, &session, id).await
}

#[server]
pub async fn mark_all_read() -> Result<i64, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::mark_all_read(&state, &session).await
}

#[server]
pub async fn archive(id: i64) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::archive(&state, &session, id).await
}

/// Snoozes one notification until `until` (RFC 3339; the browser computes
/// it in the user's time zone); returns the new unread count.
#[server]
pub async fn snooze(id: i64, until: String) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    use crate::server::{domain::inbox_action::SnoozeUntil, store::now_ms};
    let state = state()?;
    let session = session(&state).await?;
    let until = SnoozeUntil::parse(&until, now_ms())?;
    crate::server::usecases::inbox::snooze(&state, &session, id, until).await
}

/// Archives everything read; returns the unread count.
#[server]
pub async fn archive_read() -> Result<i64, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::archive_read(&state, &session).await
}

/// Archives the selected notifications (1 to 100); returns the new unread count.
#[server]
pub async fn archive_selected(ids: Vec<i64>) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    use crate::server::domain::inbox_action::ArchiveIds;
    let state = state()?;
    let session = session(&state).await?;
    let ids = ArchiveIds::parse(ids)?;
    crate::server::usecases::inbox::archive_many(&state, &session, ids).await
}

/// Starts the demo export; its progress arrives on the stream.
#[server]
pub async fn start_export() -> Result<String, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::export::start(&state, &session).await
}
