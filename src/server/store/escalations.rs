//! Email escalation's state (docs/escalation.md): one row per user with an
//! email address, never one per notification and nothing at publish.
//!
//! `up_to` is the user's decided watermark: every entry at or below it was
//! emailed or never will be. `emailed_above` lists the entries above it
//! already emailed (due ones found past one not yet due). `pending` is the
//! digest claimed and not yet sent: claimed (watermark moved, positions
//! recorded) in one statement guarded by the lease, then sent, then
//! cleared; a failed send keeps it for a retry, a crash leaves it for the
//! next holder. The lease (`lease`, `lease_until`) lets one instance at a
//! time work on a user, so a cluster sends each digest once.

use crate::model::{Channel, Severity};
use crate::server::store::{
    dialect::{execute, fetch, json_list},
    log::{self, Span},
    notifications, preferences, Backend, Pool, StoreError, Tx,
};

/// A new user with an address (or a first push subscription) starts at the
/// log's head, in that write's transaction: what was sent before is not
/// theirs to be told about. A user who has a row keeps it.
pub async fn add_address(tx: &mut Tx, user_id: i64) -> Result<(), StoreError> {
    let head = log::head(tx).await?;
    execute!(
        tx,
        "INSERT INTO escalations (user_id, up_to) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
        user_id,
        head
    )?;
    Ok(())
}

/// The last position appended at or before `created_before` (Unix ms):
/// nothing after it can be due for anyone yet. Walks back from the head
/// over the last moments' entries only.
pub async fn due_head(pool: &Pool, created_before: i64) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64,)> = fetch!(
        conn,
        fetch_optional,
        (i64,),
        "SELECT position FROM events WHERE created_at <= ? ORDER BY position DESC LIMIT 1",
        created_before
    )?;
    Ok(row.map_or(0, |r| r.0))
}

/// Leases up to `cap` users with something to decide (entries up to
/// `due_head` not yet decided) or a digest to send, whose time has come,
/// and that no one holds; returns their ids. On PostgreSQL the candidates
/// are locked with `SKIP LOCKED` and the lease is re-checked on the row,
/// so two instances never hold one user. `push_only` (no SMTP configured):
/// only users with a push subscription, so addresses alone cost nothing.
pub async fn lease(
    pool: &Pool,
    now: i64,
    due_head: i64,
    cap: i64,
    token: &str,
    until: i64,
    push_only: bool,
) -> Result<Vec<i64>, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let lock = match tx.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE escalations SET lease = ?1, lease_until = ?2
         WHERE lease_until <= ?3 AND next_ms <= ?3 AND user_id IN (
             SELECT user_id FROM escalations
             WHERE next_ms <= ?3 AND lease_until <= ?3 AND (pending IS NOT NULL OR up_to < ?4)
               AND (NOT ?6 OR EXISTS (SELECT 1 FROM push_subscriptions p
                                      WHERE p.user_id = escalations.user_id))
             ORDER BY next_ms, up_to LIMIT ?5 {lock})
         RETURNING user_id"
    );
    let rows: Vec<(i64,)> = fetch!(
        tx,
        fetch_all,
        (i64,),
        &sql,
        token,
        until,
        now,
        due_head,
        cap,
        push_only
    )?;
    tx.commit().await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A leased user as the pass sees them, read in one snapshot.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: i64,
    /// None: push subscriptions only.
    pub email: Option<String>,
    pub username: String,
    pub up_to: i64,
    pub emailed_above: Vec<i64>,
    pub pending: Option<Vec<i64>>,
    pub attempts: i64,
    /// The pending digest's key (its last position) once it was emailed:
    /// a retry for a failed push does not email it again.
    pub emailed_for: i64,
    pub read_all_up_to: i64,
    pub delivered_up_to: i64,
    pub muted: Vec<String>,
    /// The user's own setting: on, and their delay if they set one.
    pub enabled: bool,
    pub after_secs: Option<u32>,
    pub spans: Vec<Span>,
}

/// One notification the user can see, with what the decision needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    pub position: i64,
    pub created_at: i64,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub severity: Severity,
    pub category: Option<String>,
    /// The category's setting (no category: on, the default delay).
    pub category_enabled: bool,
    pub category_after_secs: Option<i64>,
    pub read: bool,
}

/// The columns of an [`Item`], an entry joined with its announcement and
/// its category; `read` is added by each query.
const ITEM_COLUMNS: &str =
    "e.position, e.created_at, a.title, a.body, a.link, a.severity, a.category,
    COALESCE(g.escalate, TRUE) AS category_enabled, g.escalate_after_secs AS category_after_secs";
const ITEM_FROM: &str = "events e JOIN announcements a ON a.id = e.announcement_id
    LEFT JOIN categories g ON g.slug = a.category";

/// A user's row with their address and watermarks, as [`load`] reads it.
#[derive(sqlx::FromRow)]
struct RowState {
    up_to: i64,
    emailed_above: String,
    pending: Option<String>,
    attempts: i64,
    emailed_for: i64,
    email: Option<String>,
    username: String,
    read_all_up_to: i64,
    delivered_up_to: i64,
}

pub async fn load(pool: &Pool, user_id: i64) -> Result<Option<Subject>, StoreError> {
    let mut tx = crate::server::store::begin_read(pool).await?;
    let row: Option<RowState> = fetch!(
        tx,
        fetch_optional,
        RowState,
        "SELECT x.up_to, x.emailed_above, x.pending, x.attempts, x.emailed_for, u.email, u.username,
                c.read_all_up_to, c.delivered_up_to
         FROM escalations x JOIN users u ON u.id = x.user_id JOIN user_cursors c ON c.user_id = x.user_id
         WHERE x.user_id = ?",
        user_id
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let prefs = preferences::get(&mut tx, user_id).await?;
    let own = prefs.escalation.unwrap_or_default();
    let spans = log::spans(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(Subject {
        user_id,
        email: row.email,
        username: row.username,
        up_to: row.up_to,
        // Written only here, from lists of positions.
        emailed_above: serde_json::from_str(&row.emailed_above).unwrap_or_default(),
        pending: row
            .pending
            .map(|p| serde_json::from_str(&p).unwrap_or_default()),
        attempts: row.attempts,
        emailed_for: row.emailed_for,
        read_all_up_to: row.read_all_up_to,
        delivered_up_to: row.delivered_up_to,
        muted: prefs.muted,
        enabled: own.enabled,
        after_secs: own.after_secs,
        spans,
    }))
}

/// The notifications the user sees in `(after, up_to]`, oldest first, with
/// their read state now: one index range per span (at most `limit` each),
/// merged and cut to `limit`. O(spans × limit).
pub async fn scan(
    pool: &Pool,
    subject: &Subject,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<Item>, StoreError> {
    let mut tx = crate::server::store::begin_read(pool).await?;
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, {} AS read FROM {ITEM_FROM}
         WHERE e.channel = ?3 AND e.position > ?4 AND e.position <= ?5
           AND e.kind = 'notification' AND e.removed_pos IS NULL
         ORDER BY e.position LIMIT ?6",
        notifications::read_expr()
    );
    let mut items = Vec::new();
    for span in &subject.spans {
        let Some((lo, hi)) = span.window(after, up_to) else {
            continue;
        };
        let channel: &Channel = &span.channel;
        let found: Vec<Item> = fetch!(
            tx,
            fetch_all,
            Item,
            &sql,
            subject.user_id,
            subject.read_all_up_to,
            channel,
            lo,
            hi,
            limit
        )?;
        items.extend(found);
    }
    tx.commit().await?;
    items.sort_by_key(|i| i.position);
    items.truncate(limit.max(0) as usize);
    Ok(items)
}

/// The claimed positions as they are now (what the email says): those the
/// user still sees (not retracted, expired, or out of their channels),
/// with their read state now. Read watermarks are the caller's, fresh.
pub async fn items_at(
    pool: &Pool,
    user_id: i64,
    read_all_up_to: i64,
    positions: &[i64],
) -> Result<Vec<Item>, StoreError> {
    let mut conn = pool.acquire().await?;
    let sql = format!(
        "SELECT {ITEM_COLUMNS},
                (e.position <= ? OR EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?
                    AND st.position = e.position AND (st.read_at IS NOT NULL OR st.archived_at IS NOT NULL))) AS read
         FROM {ITEM_FROM}
         JOIN subscriptions s ON s.user_id = ? AND s.channel = e.channel
              AND e.position > s.from_pos AND (s.to_pos IS NULL OR e.position <= s.to_pos)
         WHERE e.position IN {{int_list}} AND e.kind = 'notification' AND e.removed_pos IS NULL
         ORDER BY e.position"
    );
    Ok(fetch!(
        conn,
        fetch_all,
        Item,
        &sql,
        read_all_up_to,
        user_id,
        user_id,
        json_list(positions)
    )?)
}

/// The user's read and delivered watermarks now (at send time).
pub async fn watermarks(pool: &Pool, user_id: i64) -> Result<(i64, i64), StoreError> {
    let mut tx = crate::server::store::begin_read(pool).await?;
    let watermarks = crate::server::store::notifications::cursors(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(watermarks)
}

/// What one visit decided for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub up_to: i64,
    pub emailed_above: Vec<i64>,
    /// The digest to send now (empty: none).
    pub pending: Vec<i64>,
    /// Not looked at again before (a not-yet-due entry's time; 0: when
    /// something new is due).
    pub next_ms: i64,
}

/// Records the decision if this pass still holds the lease; returns
/// whether it did. With nothing to send the lease is released too.
pub async fn claim(
    pool: &Pool,
    user_id: i64,
    token: &str,
    decision: &Decision,
) -> Result<bool, StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    let sending = !decision.pending.is_empty();
    let pending = sending.then(|| json_list(&decision.pending));
    let done = execute!(
        tx,
        "UPDATE escalations SET up_to = GREATEST(up_to, ?1), emailed_above = ?2, pending = ?3,
             next_ms = ?4, attempts = 0,
             lease = CASE WHEN ?5 THEN lease ELSE NULL END,
             lease_until = CASE WHEN ?5 THEN lease_until ELSE 0 END
         WHERE user_id = ?6 AND lease = ?7",
        decision.up_to,
        json_list(&decision.emailed_above),
        pending,
        decision.next_ms,
        sending,
        user_id,
        token
    )?;
    tx.commit().await?;
    Ok(done == 1)
}

/// The digest went out (or had nothing left to say): cleared, lease released.
pub async fn finish(pool: &Pool, user_id: i64, token: &str) -> Result<(), StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    execute!(
        tx,
        "UPDATE escalations SET pending = NULL, attempts = 0, lease = NULL, lease_until = 0
         WHERE user_id = ? AND lease = ?",
        user_id,
        token
    )?;
    tx.commit().await
}

/// The pending digest `key` reached the user's address (its push part
/// may still be retried).
pub async fn mark_emailed(
    pool: &Pool,
    user_id: i64,
    token: &str,
    key: i64,
) -> Result<(), StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    execute!(
        tx,
        "UPDATE escalations SET emailed_for = ? WHERE user_id = ? AND lease = ?",
        key,
        user_id,
        token
    )?;
    tx.commit().await
}

/// The send failed: the digest stays claimed, tried again at `retry_at`.
pub async fn fail(pool: &Pool, user_id: i64, token: &str, retry_at: i64) -> Result<(), StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    execute!(
        tx,
        "UPDATE escalations SET attempts = attempts + 1, next_ms = ?, lease = NULL, lease_until = 0
         WHERE user_id = ? AND lease = ?",
        retry_at,
        user_id,
        token
    )?;
    tx.commit().await
}

/// Gives the user back untouched (this pass's email budget ran out).
pub async fn release(pool: &Pool, user_id: i64, token: &str) -> Result<(), StoreError> {
    let mut tx = crate::server::store::begin_write(pool).await?;
    execute!(
        tx,
        "UPDATE escalations SET lease = NULL, lease_until = 0 WHERE user_id = ? AND lease = ?",
        user_id,
        token
    )?;
    tx.commit().await
}
