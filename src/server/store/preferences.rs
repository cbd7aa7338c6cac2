//! A user's preferences (issue 19): the categories they muted and those
//! they want desktop alerts for. A row only once they saved some; read
//! where their counts are computed (a seed, a read, a page), never at
//! publish, so a broadcast costs the same whatever anyone muted.

use crate::model::{Escalation, Preferences};
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, StoreError, Tx,
};

/// The user's preferences (none saved: nothing muted).
pub async fn get(tx: &mut Tx, user_id: i64) -> Result<Preferences, StoreError> {
    let row: Option<(String, String, bool, Option<i64>)> = fetch!(
        tx,
        fetch_optional,
        (String, String, bool, Option<i64>),
        "SELECT muted, desktop, escalate, escalate_after_secs FROM user_preferences WHERE user_id = ?",
        user_id
    )?;
    let Some((muted, desktop, enabled, after)) = row else {
        return Ok(Preferences {
            escalation: Some(Escalation::default()),
            ..Preferences::default()
        });
    };
    // Written only by `put`, from checked lists; an unreadable one mutes nothing.
    Ok(Preferences {
        muted: serde_json::from_str(&muted).unwrap_or_default(),
        desktop: serde_json::from_str(&desktop).unwrap_or_default(),
        escalation: Some(Escalation {
            enabled,
            after_secs: after.and_then(|a| u32::try_from(a).ok()),
        }),
    })
}

/// Replaces the user's preferences (lists and delay already checked); an
/// absent `escalation` keeps the saved one.
pub async fn put(tx: &mut Tx, user_id: i64, prefs: &Preferences) -> Result<(), StoreError> {
    let muted = crate::server::store::dialect::json_list(&prefs.muted);
    let desktop = crate::server::store::dialect::json_list(&prefs.desktop);
    let keep = prefs.escalation.is_none();
    let escalation = prefs.escalation.unwrap_or_default();
    execute!(
        tx,
        "INSERT INTO user_preferences (user_id, muted, desktop, updated_at, escalate, escalate_after_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted, desktop = excluded.desktop,
             updated_at = excluded.updated_at,
             escalate = CASE WHEN ?7 THEN user_preferences.escalate ELSE excluded.escalate END,
             escalate_after_secs = CASE WHEN ?7 THEN user_preferences.escalate_after_secs
                                        ELSE excluded.escalate_after_secs END",
        user_id,
        muted,
        desktop,
        now_ms(),
        escalation.enabled,
        escalation.after_secs.map(i64::from),
        keep
    )?;
    Ok(())
}
