//! Snoozes (issue 19): a notification out of a user's inbox until a time,
//! then back at the top, unread.
//!
//! The leave is an archive of the entry (`notifications::mark_read` with
//! `archive`, in the same turn as the row here), so the inbox, the count
//! and every tab follow it as they follow an archive. The return is a new
//! notification entry of the same announcement in the user's own channel,
//! marked `returns = <the snoozed entry>`: it reaches the streams, replays
//! and other instances' followers like any notification, counts one unread,
//! and the funnel skips it (the user was counted on the original).
//!
//! Exactly once: the due rows are deleted inside a publishing turn, which
//! holds the write lock (SQLite) or the cluster-wide advisory lock
//! (PostgreSQL) to its commit, so a row two instances both saw due is
//! claimed by one; the other's `DELETE` finds it gone.

use crate::model::Channel;
use crate::server::store::{
    dialect::{execute, fetch},
    log::{self, Kind},
    notifications::{self, Published},
    now_ms, Pool, StoreError, Tx,
};

/// The most returns one turn appends: bounds the transaction and the hub
/// pass; the rest wait for the next tick.
pub const RETURNS_PER_TURN: i64 = 100;

/// Records (or moves) the user's snooze of `position` until `until_ms`.
/// The caller has checked, in the same turn, that the user can see it.
pub async fn upsert(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
    until_ms: i64,
) -> Result<(), StoreError> {
    execute!(
        tx,
        "INSERT INTO snoozes (user_id, position, until_ms, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, position) DO UPDATE SET until_ms = excluded.until_ms",
        user_id,
        position,
        until_ms,
        now_ms()
    )?;
    Ok(())
}

/// Whether any snooze is due by the database's clock: a cheap probe (the
/// `until_ms` index) so an idle tick takes no publishing turn.
pub async fn any_due(pool: &Pool) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64,)> = fetch!(
        conn,
        fetch_optional,
        (i64,),
        "SELECT user_id FROM snoozes WHERE until_ms <= {now_ms} LIMIT 1"
    )?;
    Ok(row.is_some())
}

/// Claims the due snoozes (at most [`RETURNS_PER_TURN`]) and appends each
/// return, in the caller's publishing turn. A snoozed entry removed
/// meanwhile (retracted, expired) or no longer the user's is dropped.
pub async fn return_due(tx: &mut Tx) -> Result<Vec<Published>, StoreError> {
    let claimed: Vec<(i64, i64)> = fetch!(
        tx,
        fetch_all,
        (i64, i64),
        "DELETE FROM snoozes WHERE (user_id, position) IN (
            SELECT user_id, position FROM snoozes WHERE until_ms <= {now_ms}
            ORDER BY until_ms LIMIT ?)
         RETURNING user_id, position",
        RETURNS_PER_TURN
    )?;
    let mut returned = Vec::with_capacity(claimed.len());
    for (user_id, position) in claimed {
        if let Some(published) = append_return(tx, user_id, position).await? {
            returned.push(published);
        }
    }
    // Positions follow the appends; keep the events in that order.
    returned.sort_by_key(|p| p.entry.position);
    Ok(returned)
}

async fn append_return(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
) -> Result<Option<Published>, StoreError> {
    let Some(seen) = notifications::visible(tx, user_id, position).await? else {
        return Ok(None);
    };
    let shown: notifications::Shown = fetch!(
        tx,
        fetch_one,
        notifications::Shown,
        "SELECT event, title, body, severity, link, category, data, actions FROM announcements WHERE id = ?",
        seen.announcement_id
    )?;
    let channel = Channel::User(user_id);
    let now = now_ms();
    let (entry, _) = log::append(
        tx,
        Kind::Notification,
        &channel,
        seen.announcement_id,
        // Its category's tab lists the return like any arrival.
        shown.category(),
        None,
        now,
    )
    .await?;
    // A return of a return brings back the original.
    let original = seen.returns.unwrap_or(position);
    execute!(
        tx,
        "UPDATE events SET returns = ? WHERE position = ?",
        original,
        entry.position
    )?;
    // The category (with the severity) is what the return counts in: its
    // category's count and the badge go up by one, as for an arrival,
    // where the snooze's archive took them down.
    Ok(Some(shown.published(
        seen.announcement_id,
        entry,
        now,
        false,
        1,
    )))
}
