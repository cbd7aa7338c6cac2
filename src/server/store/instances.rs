//! The instances of a cluster (PostgreSQL) and their open streams, for
//! numbers that cover every instance (`/api/sse/stats`, "online now").

use std::collections::BTreeMap;

use crate::server::store::{
    dialect::{execute, fetch},
    Pool, StoreError,
};

/// An instance counts as alive while its heartbeat is this recent.
const ALIVE_MS: i64 = 5_000;
/// A row this old belongs to an instance that is gone.
const FORGET_MS: i64 = 60_000;

/// Writes this instance's numbers, stamped with the database's clock.
pub async fn beat(
    pool: &Pool,
    id: &str,
    streams: i64,
    user_streams: &BTreeMap<String, usize>,
) -> Result<(), StoreError> {
    let users = serde_json::to_string(user_streams).unwrap_or_else(|_| "{}".into());
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "INSERT INTO instances (id, heartbeat_at, streams, user_streams) VALUES (?, {now_ms}, ?, ?)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
             streams = excluded.streams, user_streams = excluded.user_streams",
        id,
        streams,
        users
    )?;
    execute!(
        conn,
        "DELETE FROM instances WHERE heartbeat_at < {now_ms} - ?",
        FORGET_MS
    )?;
    Ok(())
}

/// The open streams of every other live instance: total and per user.
pub async fn others(pool: &Pool, this: &str) -> Result<(i64, BTreeMap<String, usize>), StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(i64, String)> = fetch!(
        conn,
        fetch_all,
        (i64, String),
        "SELECT streams, user_streams FROM instances WHERE id <> ? AND heartbeat_at >= {now_ms} - ?",
        this,
        ALIVE_MS
    )?;
    let mut total = 0;
    let mut users: BTreeMap<String, usize> = BTreeMap::new();
    for (streams, per_user) in rows {
        total += streams;
        let per_user: BTreeMap<String, usize> = serde_json::from_str(&per_user).unwrap_or_default();
        for (user, n) in per_user {
            *users.entry(user).or_default() += n;
        }
    }
    Ok((total, users))
}
