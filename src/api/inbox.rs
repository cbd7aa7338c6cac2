//! The signed-in user's inbox. Every function acts on the caller's own
//! notifications only (the use cases scope every query by user id).

use leptos::prelude::*;

use crate::model::{AppError, Category, InboxPage, Preferences, PreferencesEvent};

/// A page of the inbox: the newest, or those older than `before` (a
/// position); with `category`, of that category only (a tab).
#[server]
pub async fn get_inbox(
    before: Option<i64>,
    category: Option<String>,
) -> Result<InboxPage, AppError> {
    use super::ssr::{session, state};
    use crate::server::{domain::announcement::parse_category, usecases::inbox};
    let state = state()?;
    let session = session(&state).await?;
    let category = parse_category(category.as_deref())?;
    inbox::inbox_page(&state, &session, before, category.as_deref()).await
}

/// Returns the new unread count.
#[server]
pub async fn mark_read(id: i64) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::mark_read(&state, &session, id).await
}

/// Everything read, or (with `category`) everything of that category.
#[server]
pub async fn mark_all_read(category: Option<String>) -> Result<i64, AppError> {
    use super::ssr::{session, state};
    use crate::server::domain::announcement::parse_category;
    let state = state()?;
    let session = session(&state).await?;
    let category = parse_category(category.as_deref())?;
    crate::server::usecases::inbox::mark_all_read(&state, &session, category.as_deref()).await
}

/// A click on action `action` of notification `id`: recorded once per user.
#[server]
pub async fn click_action(id: i64, action: u8) -> Result<bool, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::click(&state, &session, id, Some(action)).await
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

/// Every category (the inbox's tabs, the preferences page).
#[server]
pub async fn list_categories() -> Result<Vec<Category>, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::categories::list(&state, &session).await
}

#[server]
pub async fn get_preferences() -> Result<Preferences, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::preferences::get(&state, &session).await
}

/// Saves the user's preferences: `muted` and `desktop` are comma-separated
/// slugs (a form's checkboxes, joined); `escalate` (absent: unchanged) turns
/// email escalation on or off, after `escalate_after_mins` (absent: the
/// category's or the server's delay).
#[server]
pub async fn save_preferences(
    muted: String,
    desktop: String,
    escalate: Option<bool>,
    escalate_after_mins: Option<u32>,
) -> Result<PreferencesEvent, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    let list = |raw: &str| -> Vec<String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let wanted = Preferences {
        muted: list(&muted),
        desktop: list(&desktop),
        escalation: escalate.map(|enabled| crate::model::Escalation {
            enabled,
            after_secs: escalate_after_mins.map(|m| m.saturating_mul(60)),
        }),
    };
    crate::server::usecases::preferences::put(&state, &session, wanted).await
}
