//! Clicks on a notification's action buttons (issue 19): the first click
//! of each user on each notification, and the announcement's count of
//! users who clicked (the funnel's last step). O(1) per click.

use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, StoreError, Tx,
};

/// Records the user's click on action `action` of the notification at
/// `position` (already checked visible, in the caller's transaction).
/// Returns whether it was their first on it: only that one counts.
pub async fn record(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
    announcement_id: i64,
    action: i64,
) -> Result<bool, StoreError> {
    let inserted = execute!(
        tx,
        "INSERT INTO clicks (user_id, position, action, clicked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, position) DO NOTHING",
        user_id,
        position,
        action,
        now_ms()
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    execute!(
        tx,
        "UPDATE announcements SET click_count = click_count + 1 WHERE id = ?",
        announcement_id
    )?;
    Ok(true)
}

/// How many actions the announcement has (a click must name one of them).
pub async fn action_count(tx: &mut Tx, announcement_id: i64) -> Result<usize, StoreError> {
    let (actions,): (Option<String>,) = fetch!(
        tx,
        fetch_one,
        (Option<String>,),
        "SELECT actions FROM announcements WHERE id = ?",
        announcement_id
    )?;
    Ok(actions
        .and_then(|a| serde_json::from_str::<Vec<serde_json::Value>>(&a).ok())
        .map_or(0, |a| a.len()))
}
