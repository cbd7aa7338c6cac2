//! Control entries (PostgreSQL, issue 10): a user's read (and, issue 19,
//! their preference change), appended in the publishing turn like a
//! notification, so that every instance's follower sets that user's
//! counter to the exact counts at that position, in order.

use crate::model::{PreferencesEvent, ReadEvent};

/// A control entry as a follower applies it.
#[derive(Debug, Clone)]
pub enum Control {
    Read(ReadEvent),
    Preferences(PreferencesEvent),
}
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, Pool, StoreError, Tx,
};

// The `kind` column: which payload a row holds (`reads_after` reads it back).
const READ: &str = "read";
const PREFERENCES: &str = "preferences";

/// Appends in the caller's publishing turn (the advisory lock is held).
pub async fn append_read(tx: &mut Tx, user_id: i64, read: &ReadEvent) -> Result<(), StoreError> {
    append(tx, user_id, READ, read).await
}

/// A preference change, in the caller's publishing turn.
pub async fn append_preferences(
    tx: &mut Tx,
    user_id: i64,
    preferences: &PreferencesEvent,
) -> Result<(), StoreError> {
    append(tx, user_id, PREFERENCES, preferences).await
}

async fn append(
    tx: &mut Tx,
    user_id: i64,
    kind: &str,
    payload: &impl serde::Serialize,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(payload).unwrap_or_else(|_| "{}".into());
    execute!(
        tx,
        "INSERT INTO control_entries (position, kind, user_id, payload, created_at)
         VALUES (nextval('events_position'), ?, ?, ?, ?)",
        kind,
        user_id,
        payload,
        now_ms()
    )?;
    Ok(())
}

/// Control entries after `after`, up to `up_to`, oldest first, at most
/// `limit`: `(position, user_id, entry)`.
pub async fn reads_after(
    tx: &mut Tx,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, Control)>, StoreError> {
    let rows: Vec<(i64, String, i64, String)> = fetch!(
        tx,
        fetch_all,
        (i64, String, i64, String),
        "SELECT position, kind, user_id, payload FROM control_entries
         WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
        after,
        up_to,
        limit
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|(position, kind, user_id, payload)| {
            let entry = match kind.as_str() {
                PREFERENCES => Control::Preferences(serde_json::from_str(&payload).ok()?),
                _ => Control::Read(serde_json::from_str(&payload).ok()?),
            };
            Some((position, user_id, entry))
        })
        .collect())
}

/// Deletes control entries made before `before_ms`; returns how many. The
/// last position deleted is kept (`control_pruned_through`): a follower
/// whose cursor is below it missed entries it can no longer read.
pub async fn prune(pool: &Pool, before_ms: i64) -> Result<u64, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let pruned: Vec<(i64,)> = fetch!(
        tx,
        fetch_all,
        (i64,),
        "DELETE FROM control_entries WHERE created_at < ? RETURNING position",
        before_ms
    )?;
    if let Some(through) = pruned.iter().map(|(p,)| *p).max() {
        execute!(
            tx,
            "INSERT INTO log_meta (key, value) VALUES ('control_pruned_through', ?)
             ON CONFLICT (key) DO UPDATE SET value = GREATEST(log_meta.value, excluded.value)",
            through
        )?;
    }
    tx.commit().await?;
    Ok(pruned.len() as u64)
}

/// The last control entry pruned (0 when none was).
pub async fn pruned_through(tx: &mut Tx) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT value FROM log_meta WHERE key = 'control_pruned_through'"
    )?;
    Ok(row.map_or(0, |r| r.0))
}
