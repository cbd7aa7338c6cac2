//! Per-recipient notifications and the announcements they come from.

use super::{now_ms, rfc3339, Pool, StoreError};
use crate::model::{NotificationView, Role, Severity};

/// Whom an announcement is stored for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    All,
    Role(Role),
    User(i64),
}

impl Recipients {
    /// Stored in `announcements.target`.
    pub fn label(&self) -> String {
        match self {
            Recipients::All => "all".into(),
            Recipients::Role(role) => format!("role:{}", role.as_str()),
            Recipients::User(id) => format!("user:{id}"),
        }
    }

    pub fn from_label(label: &str) -> Option<Recipients> {
        match label.split_once(':') {
            None if label == "all" => Some(Recipients::All),
            Some(("role", role)) => Role::parse(role).map(Recipients::Role),
            Some(("user", id)) => id.parse().ok().map(Recipients::User),
            _ => None,
        }
    }

    /// A `WHERE` clause over `users`, with at most one `?` (see [`Self::bind`]).
    pub(super) fn sql_filter(&self) -> &'static str {
        match self {
            Recipients::All => "1 = 1",
            Recipients::Role(_) => "role = ?",
            Recipients::User(_) => "id = ?",
        }
    }

    pub(super) fn bind<'q>(&self, q: SqliteQuery<'q>) -> SqliteQuery<'q> {
        match self {
            Recipients::All => q,
            Recipients::Role(role) => q.bind(role.as_str()),
            Recipients::User(id) => q.bind(*id),
        }
    }
}

pub(super) type SqliteQuery<'q> =
    sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// What an admin composed, already validated.
#[derive(Debug, Clone)]
pub struct NewAnnouncement {
    /// `None` for what Herald itself sends (e.g. "your export is ready"):
    /// see [`NewAnnouncement::origin`].
    pub sender_id: Option<i64>,
    pub event: String,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    pub link: Option<String>,
}

impl NewAnnouncement {
    /// `announcements.origin`: the admin's history lists only `admin` ones.
    pub fn origin(&self) -> &'static str {
        if self.sender_id.is_some() {
            "admin"
        } else {
            "system"
        }
    }
}

/// One stored copy, with the recipient's unread count right after the insert.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub announcement_id: i64,
    pub user_id: i64,
    pub event: String,
    pub notification: NotificationView,
    pub unread: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: i64,
    seq: i64,
    title: String,
    body: String,
    severity: String,
    link: Option<String>,
    created_at: i64,
    read_at: Option<i64>,
}

impl NotificationRow {
    pub(super) fn view(self) -> NotificationView {
        NotificationView {
            id: self.id,
            seq: self.seq,
            title: self.title,
            body: self.body,
            severity: Severity::parse(&self.severity).unwrap_or_default(),
            link: self.link,
            created_at: rfc3339(self.created_at),
            read: self.read_at.is_some(),
        }
    }
}

pub(super) const COLUMNS: &str = "id, seq, title, body, severity, link, created_at, read_at";

pub async fn unread_count(pool: &Pool, user_id: i64) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await?;
    unread_in(&mut conn, user_id).await
}

pub async fn last_seq(pool: &Pool, user_id: i64) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT last_seq FROM users WHERE id = ?")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.0).unwrap_or(0))
}

/// Oldest first: what a resuming stream replays, with the event name each was sent as.
pub async fn after_seq(
    pool: &Pool,
    user_id: i64,
    seq: i64,
    limit: i64,
) -> Result<Vec<(String, NotificationView)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        event: String,
        #[sqlx(flatten)]
        row: NotificationRow,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT event, {COLUMNS} FROM notifications WHERE user_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?"
    ))
    .bind(user_id)
    .bind(seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.event, r.row.view())).collect())
}

/// Newest first, strictly older than `before` (a seq) when given.
pub async fn page(
    pool: &Pool,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationView>, StoreError> {
    let rows: Vec<NotificationRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE user_id = ? AND seq < ? AND archived_at IS NULL ORDER BY seq DESC LIMIT ?"
    ))
    .bind(user_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(NotificationRow::view).collect())
}

/// Marks one of the user's notifications read. `None` when the user has no
/// notification with that id (someone else's is indistinguishable from none).
pub async fn mark_read(pool: &Pool, user_id: i64, id: i64) -> Result<Option<i64>, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let exists: Option<(i64,)> =
        sqlx::query_as("SELECT seq FROM notifications WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    let unread = unread_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(unread))
}

/// Marks everything up to `up_to_seq` read; returns the new unread count.
pub async fn mark_all_read(pool: &Pool, user_id: i64, up_to_seq: i64) -> Result<i64, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    sqlx::query(
        "UPDATE notifications SET read_at = ? WHERE user_id = ? AND seq <= ? AND read_at IS NULL",
    )
    .bind(now_ms())
    .bind(user_id)
    .bind(up_to_seq)
    .execute(&mut *tx)
    .await?;
    let unread = unread_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(unread)
}

pub(super) async fn unread_in(
    tx: &mut sqlx::SqliteConnection,
    user_id: i64,
) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL")
            .bind(user_id)
            .fetch_one(tx)
            .await?;
    Ok(n)
}

/// Archives (and marks read) one of the user's notifications; `None` when
/// the user has no such notification.
pub async fn archive(pool: &Pool, user_id: i64, id: i64) -> Result<Option<i64>, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE notifications SET archived_at = COALESCE(archived_at, ?), read_at = COALESCE(read_at, ?)
         WHERE id = ? AND user_id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let unread = unread_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(unread))
}

/// Records that these copies reached their user (for the admin's funnel),
/// best-effort: by the time a copy is known to have reached someone it has
/// been shown (published, replayed, or on an inbox page), so a failure here
/// (a busy database) must not turn that into an error — a retried publish
/// would send it twice, a failed stream open or page would hide it. A copy
/// left unmarked is marked the next time it is shown; until then the funnel
/// undercounts, and the warning says so.
pub async fn record_delivered(pool: &Pool, ids: &[i64]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = mark_delivered(pool, ids).await {
        tracing::warn!(copies = ids.len(), error = %e, "delivery marks not recorded");
    }
}

async fn mark_delivered(pool: &Pool, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "UPDATE notifications SET delivered_at = ? WHERE delivered_at IS NULL AND id IN ({placeholders})"
        );
        let mut query = sqlx::query(&sql).bind(now_ms());
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(pool).await?;
    }
    Ok(())
}
