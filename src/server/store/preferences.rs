//! A user's preferences (issue 19): the categories they muted and those
//! they want desktop alerts for. A row only once they saved some; read
//! where their counts are computed (a seed, a read, a page), never at
//! publish, so a broadcast costs the same whatever anyone muted.

use crate::model::Preferences;
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, StoreError, Tx,
};

/// The user's preferences (none saved: nothing muted).
pub async fn get(tx: &mut Tx, user_id: i64) -> Result<Preferences, StoreError> {
    let row: Option<(String, String)> = fetch!(
        tx,
        fetch_optional,
        (String, String),
        "SELECT muted, desktop FROM user_preferences WHERE user_id = ?",
        user_id
    )?;
    let Some((muted, desktop)) = row else {
        return Ok(Preferences::default());
    };
    // Written only by `put`, from checked lists; an unreadable one mutes nothing.
    Ok(Preferences {
        muted: serde_json::from_str(&muted).unwrap_or_default(),
        desktop: serde_json::from_str(&desktop).unwrap_or_default(),
    })
}

/// Replaces the user's preferences (lists already checked).
pub async fn put(tx: &mut Tx, user_id: i64, prefs: &Preferences) -> Result<(), StoreError> {
    let muted = crate::server::store::dialect::json_list(&prefs.muted);
    let desktop = crate::server::store::dialect::json_list(&prefs.desktop);
    execute!(
        tx,
        "INSERT INTO user_preferences (user_id, muted, desktop, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted, desktop = excluded.desktop,
             updated_at = excluded.updated_at",
        user_id,
        muted,
        desktop,
        now_ms()
    )?;
    Ok(())
}
