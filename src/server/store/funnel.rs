//! The admin's funnel, "delivered": one of the user's clients was brought up
//! to a position (a stream wrote it, live or replayed; an inbox page showed
//! the log at that head). Kept as a watermark per user, advanced in batches,
//! never written per user at publish time.
//!
//! Each advance from the *stored* watermark `old` to `new` adds 1 to every
//! announcement the user can see in `(old, new]`, so a position is counted
//! once per user however often it is delivered. Users advancing over the
//! same window in the same channel are counted together: after a broadcast
//! to 10,000 online users the flush runs one range query, not 10,000.
//! Removed entries are not counted: retraction and expiry freeze the funnel.

use std::collections::{hash_map::Entry, BTreeMap, HashMap};

use crate::model::{
    webhooks::{DeliveredCount, NotificationDeliveredData},
    Channel, WebhookEvent,
};

use crate::server::store::{
    dialect::{execute, fetch, json_list},
    webhooks, Pool, StoreError,
};

/// Advances each user's watermark to the given position (a lower one is a
/// no-op), counting what they newly received. Best-effort at every caller:
/// by then the user has it, so a failure is logged (the funnel undercounts
/// until the next advance covers the window again) and never turns into an
/// error for the stream or page that delivered it.
pub async fn record_delivered(pool: &Pool, advances: &[(i64, i64)]) {
    if advances.is_empty() {
        return;
    }
    if let Err(e) = advance(pool, advances).await {
        tracing::warn!(users = advances.len(), error = %e, "delivery marks not recorded");
    }
}

async fn advance(pool: &Pool, advances: &[(i64, i64)]) -> Result<(), StoreError> {
    let wanted: HashMap<i64, i64> = advances.iter().copied().collect();
    let mut tx = crate::server::store::begin_write(pool).await?;
    // (channel, after, up_to) → users advancing over exactly that window.
    let mut windows: BTreeMap<(Channel, i64, i64), i64> = BTreeMap::new();
    let mut moved: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let ids: Vec<i64> = wanted.keys().copied().collect();
    let rows: Vec<(i64, i64, Channel, i64, Option<i64>)> = fetch!(
        tx,
        fetch_all,
        (i64, i64, Channel, i64, Option<i64>),
        "SELECT c.user_id, c.delivered_up_to, s.channel, s.from_pos, s.to_pos
         FROM user_cursors c JOIN subscriptions s ON s.user_id = c.user_id
         WHERE c.user_id IN {int_list} ORDER BY c.user_id",
        json_list(&ids)
    )?;
    for (user_id, old, channel, from, to) in rows {
        let new = wanted[&user_id];
        if new <= old {
            continue;
        }
        let span = crate::server::store::log::Span { channel, from, to };
        if let Some((lo, hi)) = span.window(old, new) {
            *windows.entry((span.channel, lo, hi)).or_default() += 1;
        }
        let users = moved.entry(new).or_default();
        if users.last() != Some(&user_id) {
            users.push(user_id);
        }
    }
    // A channel with nothing after a window's start needs no range query
    // (most users' own channels).
    let mut last_position: HashMap<Channel, i64> = HashMap::new();
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for ((channel, lo, hi), users) in windows {
        let last = match last_position.entry(channel) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(slot) => {
                let (last,): (i64,) = fetch!(
                    tx,
                    fetch_one,
                    (i64,),
                    "SELECT COALESCE((SELECT last_position FROM channels WHERE name = ?), 0)",
                    &channel
                )?;
                *slot.insert(last)
            }
        };
        if last <= lo {
            continue;
        }
        let announcements: Vec<(i64,)> = fetch!(
            tx,
            fetch_all,
            (i64,),
            "SELECT announcement_id FROM events WHERE channel = ? AND position > ? AND position <= ?
             AND kind = 'notification' AND removed_pos IS NULL AND returns IS NULL",
            &channel,
            lo,
            hi
        )?;
        for (id,) in announcements {
            *counts.entry(id).or_default() += users;
        }
    }
    if !counts.is_empty() {
        // The batch's counts, one message per subscribed endpoint, in the
        // batch's transaction: never one per user.
        let delivered = NotificationDeliveredData {
            users: moved.values().map(|users| users.len() as i64).sum(),
            announcements: counts
                .iter()
                .map(|(&id, &delivered)| DeliveredCount { id, delivered })
                .collect(),
        };
        webhooks::enqueue(&mut tx, WebhookEvent::NotificationDelivered, &delivered).await?;
    }
    for (id, n) in counts {
        execute!(
            tx,
            "UPDATE announcements SET delivered_count = delivered_count + ? WHERE id = ?",
            n,
            id
        )?;
    }
    for (new, users) in moved {
        execute!(
            tx,
            "UPDATE user_cursors SET delivered_up_to = ? WHERE delivered_up_to < ? AND user_id IN {int_list}",
            new,
            new,
            json_list(&users)
        )?;
    }
    crate::server::store::commit(tx).await
}
