//! Reading one's own inbox and marking it read. Every query is scoped to the
//! caller's user id: nobody can read or change another user's notification.

use crate::{
    model::{AppError, InboxPage, NotificationView},
    server::{
        auth::Session,
        events::{self, DomainEvent, ReadScope},
        state::AppState,
        store::notifications,
    },
};

pub const FIRST_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// What an inbox page renders: a page of items (the newest, or those
/// older than `before`), the unread count, and the seq the stream resumes after.
pub async fn inbox_page(
    state: &AppState,
    session: &Session,
    before: Option<i64>,
) -> Result<InboxPage, AppError> {
    // last_seq first: anything stored after it is replayed by the stream.
    let last_seq = notifications::last_seq(&state.pool, session.user.id).await?;
    let (items, unread) = page(state, session, before, Some(FIRST_PAGE)).await?;
    Ok(InboxPage {
        items,
        unread,
        last_seq,
    })
}

/// A page of notifications, newest first, with seq below `before` when given.
/// Whatever a user is shown counts as delivered in the admin's funnel.
pub async fn page(
    state: &AppState,
    session: &Session,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<(Vec<NotificationView>, i64), AppError> {
    let limit = limit.unwrap_or(FIRST_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    let items = notifications::page(&state.pool, session.user.id, before, limit).await?;
    let shown: Vec<i64> = items.iter().map(|n| n.id).collect();
    notifications::record_delivered(&state.pool, &shown).await;
    let unread = notifications::unread_count(&state.pool, session.user.id).await?;
    Ok((items, unread))
}

/// Returns the new unread count; every tab of the user hears about it.
pub async fn mark_read(state: &AppState, session: &Session, id: i64) -> Result<i64, AppError> {
    let user_id = session.user.id;
    let unread = notifications::mark_read(&state.pool, user_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("notification {id}")))?;
    publish_read(state, user_id, ReadScope::Ids(vec![id]), unread);
    Ok(unread)
}

/// Takes a notification out of the user's inbox; returns the new unread count.
pub async fn archive(state: &AppState, session: &Session, id: i64) -> Result<i64, AppError> {
    let user_id = session.user.id;
    let unread = notifications::archive(&state.pool, user_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("notification {id}")))?;
    publish_read(state, user_id, ReadScope::Archived(vec![id]), unread);
    Ok(unread)
}

/// Marks everything the user has so far read; returns the new unread count (0
/// unless something arrived meanwhile).
pub async fn mark_all_read(state: &AppState, session: &Session) -> Result<i64, AppError> {
    let user_id = session.user.id;
    let up_to_seq = notifications::last_seq(&state.pool, user_id).await?;
    let unread = notifications::mark_all_read(&state.pool, user_id, up_to_seq).await?;
    publish_read(state, user_id, ReadScope::UpToSeq(up_to_seq), unread);
    Ok(unread)
}

/// Every tab of the user hears what was read and the new count.
fn publish_read(state: &AppState, user_id: i64, scope: ReadScope, unread: i64) {
    events::publish(
        &state.hub,
        [DomainEvent::NotificationsRead {
            user_id,
            scope,
            unread,
        }],
    );
}
