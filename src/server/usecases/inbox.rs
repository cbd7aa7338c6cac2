//! Reading one's own inbox and marking it read. Every query is scoped to the
//! caller's user id: nobody can read or change another user's notification.

use crate::{
    model::{AppError, ChannelHead, InboxPage, NotificationView, ReadEvent, UserView},
    server::{
        auth::Session,
        delivery::{events::DomainEvent, publisher::Turn},
        domain::inbox_action::{ArchiveIds, SnoozeUntil},
        state::AppState,
        store::{
            categories, clicks, funnel,
            notifications::{self, Counts, InboxSnapshot},
            snoozes, webhooks,
        },
    },
};

pub const FIRST_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// What an inbox page renders: a page of items (the newest, or those
/// older than `before`), the unread count, the log position the stream
/// resumes after, and the heads of the user's channels — one snapshot.
///
/// With `category` (a checked slug: `domain::announcement::parse_category`),
/// the items are that category's only (a tab); the counts stay whole.
pub async fn inbox_page(
    state: &AppState,
    session: &Session,
    before: Option<i64>,
    category: Option<&str>,
) -> Result<InboxPage, AppError> {
    let snapshot = snapshot(state, session, before, category, Some(FIRST_PAGE)).await?;
    let preferences = crate::server::usecases::preferences::get(state, session).await?;
    Ok(InboxPage {
        preferences,
        demo: state.config.demo,
        items: snapshot.items,
        unread: snapshot.counts.unread,
        unread_by_category: snapshot.counts.by_category,
        last_position: snapshot.head,
        channels: snapshot
            .channels
            .into_iter()
            .map(|(ch, off)| ChannelHead { ch, off })
            .collect(),
    })
}

/// A page of notifications, newest first, with positions below `before`
/// when given, of one category when given (a checked slug), and the
/// counts (the badge, and each category's: the user's whole counts).
pub async fn page(
    state: &AppState,
    session: &Session,
    before: Option<i64>,
    category: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<NotificationView>, Counts), AppError> {
    let snapshot = snapshot(state, session, before, category, limit).await?;
    Ok((snapshot.items, snapshot.counts))
}

/// Whatever a user is shown counts as delivered in the admin's funnel, up
/// to the position the page was read at. A category's page shows the
/// user none of the other categories' notifications: it moves nothing.
async fn snapshot(
    state: &AppState,
    session: &Session,
    before: Option<i64>,
    category: Option<&str>,
    limit: Option<i64>,
) -> Result<InboxSnapshot, AppError> {
    let limit = limit.unwrap_or(FIRST_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    let user_id = session.user.id;
    let snapshot = notifications::inbox(&state.pool, user_id, before, category, limit).await?;
    if before.is_none() && category.is_none() {
        funnel::record_delivered(&state.pool, &[(user_id, snapshot.head)]).await;
    }
    Ok(snapshot)
}

/// Returns the new unread count; every tab of the user hears about it.
pub async fn mark_read(state: &AppState, session: &Session, id: i64) -> Result<i64, AppError> {
    read_one(state, session, id, None, false).await
}

/// Takes a notification out of the user's inbox; returns the new unread count.
pub async fn archive(state: &AppState, session: &Session, id: i64) -> Result<i64, AppError> {
    read_one(state, session, id, None, true).await
}

/// Takes a notification out of the inbox and the count until `until`, when
/// the snooze task brings it back (`usecases::snooze`); returns the new
/// unread count. For every tab it is an archive; snoozing it again moves
/// the time. Cost: one archive plus one row, in one turn.
pub async fn snooze(
    state: &AppState,
    session: &Session,
    id: i64,
    until: SnoozeUntil,
) -> Result<i64, AppError> {
    bulk_allowed(state, session)?;
    read_one(state, session, id, Some(until), true).await
}

/// Checked before any turn is taken: a script's thousand requests cost a
/// map lookup each past the allowance, not a turn each.
fn bulk_allowed(state: &AppState, session: &Session) -> Result<(), AppError> {
    if state
        .limits
        .inbox_bulk
        .allow(&format!("user:{}", session.user.id))
    {
        Ok(())
    } else {
        Err(AppError::RateLimited)
    }
}

/// Reads go through the `Publisher` like publishes: the count the write
/// computes is exact at its place in the log, and the hub must apply it
/// there, or a broadcast applied in between would be lost from the live
/// counter.
async fn read_one(
    state: &AppState,
    session: &Session,
    id: i64,
    snooze: Option<SnoozeUntil>,
    archive: bool,
) -> Result<i64, AppError> {
    let user_id = session.user.id;
    let mut turn = state.publisher.begin().await?;
    let counts = notifications::mark_read(turn.tx(), user_id, id, archive)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("notification {id}")))?;
    if let Some(until) = snooze {
        snoozes::upsert(turn.tx(), user_id, id, until.ms()).await?;
    }
    let unread = counts.unread;
    // A snooze is an archive here: its counts (the badge and the whole
    // per-category map) are exact after it, so the counter sets them.
    let mut read = if archive {
        ReadEvent::archived(vec![id], unread)
    } else {
        ReadEvent::ids(vec![id], unread)
    };
    read.unread_by_category = counts.by_category;
    commit_read(turn, &session.user, read).await
}

/// Archives several notifications in one turn and one log entry; all or
/// nothing (404 naming the first the user cannot see). Returns the new
/// unread count. O(ids) probes (at most `MAX_ARCHIVE_IDS`) and one count.
pub async fn archive_many(
    state: &AppState,
    session: &Session,
    ids: ArchiveIds,
) -> Result<i64, AppError> {
    bulk_allowed(state, session)?;
    let user_id = session.user.id;
    let mut turn = state.publisher.begin().await?;
    let counts = match notifications::archive_many(turn.tx(), user_id, ids.ids()).await? {
        Ok(counts) => counts,
        // Dropping the turn rolls back the ones archived before it.
        Err(missing) => return Err(AppError::NotFound(format!("notification {missing}"))),
    };
    let mut read = ReadEvent::archived(ids.into_ids(), counts.unread);
    // The counter sets every count from a read: the whole map goes with it.
    read.unread_by_category = counts.by_category;
    commit_read(turn, &session.user, read).await
}

/// Archives everything the user has read, in one turn and one log entry;
/// the count does not move, and is returned. O(the user's state rows): the
/// read-all watermark archives what it covers without a row per entry.
pub async fn archive_read(state: &AppState, session: &Session) -> Result<i64, AppError> {
    bulk_allowed(state, session)?;
    let user_id = session.user.id;
    let mut turn = state.publisher.begin().await?;
    let (up_to, counts) = notifications::archive_read(turn.tx(), user_id).await?;
    let mut read = ReadEvent::archived_read(up_to, counts.unread);
    read.unread_by_category = counts.by_category;
    // Nothing newly read: no `notification.read` message.
    commit_counts(turn, user_id, read).await
}

/// Marks everything the user has so far read — or, with `category` (a
/// slug checked at the edge), everything of that category — in one write
/// and one log entry; returns the new unread count (the badge).
pub async fn mark_all_read(
    state: &AppState,
    session: &Session,
    category: Option<&str>,
) -> Result<i64, AppError> {
    let user_id = session.user.id;
    let mut turn = state.publisher.begin().await?;
    if let Some(category) = category {
        let known = categories::known(turn.tx(), &[category.to_string()]).await?;
        if known.is_empty() {
            return Err(AppError::invalid(
                "category",
                format!("no category named {category:?}"),
            ));
        }
    }
    let (up_to, counts) = notifications::mark_all_read(turn.tx(), user_id, category).await?;
    let mut read = ReadEvent::up_to(up_to, counts.unread);
    read.category = category.map(str::to_string);
    read.unread_by_category = counts.by_category;
    commit_read(turn, &session.user, read).await
}

/// Ends a read action's turn: endpoints that follow reads get one message
/// each, in the reader's turn, then [`commit_counts`].
async fn commit_read(mut turn: Turn, user: &UserView, read: ReadEvent) -> Result<i64, AppError> {
    webhooks::notification_read(turn.tx(), user, &read).await?;
    commit_counts(turn, user.id, read).await
}

/// Commits the turn; every tab of the user gets `read`, whose counts the
/// write computed exactly, so their counter sets them. Returns the badge.
async fn commit_counts(turn: Turn, user_id: i64, read: ReadEvent) -> Result<i64, AppError> {
    let unread = read.unread;
    turn.commit([DomainEvent::NotificationsRead { user_id, read }])
        .await?;
    Ok(unread)
}

/// The user clicked action `action` of notification `id`: recorded once
/// per user and notification (the funnel's "clicked"); returns whether
/// this was their first click on it. O(1): one row, one counter.
pub async fn click(
    state: &AppState,
    session: &Session,
    id: i64,
    action: Option<u8>,
) -> Result<bool, AppError> {
    let user_id = session.user.id;
    let action = action.unwrap_or(0);
    let mut tx = crate::server::store::begin_write(&state.pool).await?;
    let seen = notifications::visible(&mut tx, user_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("notification {id}")))?;
    let announcement_id = seen.announcement_id;
    // A snooze's return is the same notification: its click is keyed by
    // the original entry, so the funnel counts the user once either way.
    let clicked = seen.returns.unwrap_or(id);
    if usize::from(action) >= clicks::action_count(&mut tx, announcement_id).await? {
        return Err(AppError::invalid(
            "action",
            "this notification has no such action",
        ));
    }
    let first = clicks::record(
        &mut tx,
        user_id,
        clicked,
        announcement_id,
        i64::from(action),
    )
    .await?;
    if first {
        // In the click's transaction: the message exists if and only if
        // the click was counted.
        webhooks::notification_clicked(&mut tx, &session.user, id, announcement_id, action).await?;
    }
    crate::server::store::commit(tx).await?;
    Ok(first)
}
