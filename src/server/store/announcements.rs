//! Announcements over their life: scheduled, sent (copied into every
//! recipient's inbox), then possibly retracted or expired (copies removed).

use super::{
    notifications::{unread_in, Delivered, NewAnnouncement, NotificationRow, Recipients, COLUMNS},
    now_ms, rfc3339, Pool, StoreError,
};
use crate::model::{AnnouncementSummary, Severity};
use sqlx::SqliteConnection;

/// When an announcement goes out and when it leaves inboxes (unix ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    pub send_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Copies taken out of one user's inbox, with their new unread count.
#[derive(Debug, Clone)]
pub struct Removed {
    pub user_id: i64,
    pub ids: Vec<i64>,
    pub unread: i64,
}

/// Stores the announcement in the caller's transaction (begun with
/// [`super::begin_write`]). Unless it is scheduled for later, one copy per
/// recipient is made too, each with the recipient's next `seq`; the copies
/// are returned for publishing once the caller has committed.
pub async fn insert(
    tx: &mut SqliteConnection,
    new: &NewAnnouncement,
    recipients: &Recipients,
    timing: Timing,
) -> Result<(i64, Vec<Delivered>), StoreError> {
    let now = now_ms();
    let scheduled = timing.send_at.is_some_and(|at| at > now);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO announcements
           (sender_id, event, title, body, severity, link, target, recipients, created_at, status, send_at, expires_at, origin)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.sender_id)
    .bind(&new.event)
    .bind(&new.title)
    .bind(&new.body)
    .bind(new.severity.as_str())
    .bind(&new.link)
    .bind(recipients.label())
    .bind(now)
    .bind(if scheduled { "scheduled" } else { "sent" })
    .bind(timing.send_at)
    .bind(timing.expires_at)
    .bind(new.origin())
    .fetch_one(&mut *tx)
    .await?;
    let copies = if scheduled {
        Vec::new()
    } else {
        copy_to_inboxes(tx, id, new, recipients).await?
    };
    Ok((id, copies))
}

/// Scheduled announcements whose time has come, in the order they are due.
pub async fn due_ids(pool: &Pool) -> Result<Vec<i64>, StoreError> {
    let due: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM announcements WHERE status = 'scheduled' AND send_at <= ? ORDER BY send_at, id",
    )
    .bind(now_ms())
    .fetch_all(pool)
    .await?;
    Ok(due.into_iter().map(|(id,)| id).collect())
}

/// Sends one due announcement in the caller's transaction: claims it and
/// copies it into the inboxes. `None` when it is no longer scheduled (or its
/// stored target is unreadable, which is logged).
pub async fn send_scheduled(
    tx: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Vec<Delivered>>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        sender_id: Option<i64>,
        event: String,
        title: String,
        body: String,
        severity: String,
        link: Option<String>,
        target: String,
    }
    // Claimed inside the transaction, so a second scheduler cannot send it twice.
    let row: Option<Row> = sqlx::query_as(
        "UPDATE announcements SET status = 'sent' WHERE id = ? AND status = 'scheduled'
         RETURNING sender_id, event, title, body, severity, link, target",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(recipients) = Recipients::from_label(&row.target) else {
        tracing::error!(announcement_id = id, target = %row.target, "unreadable target");
        return Ok(None);
    };
    let new = NewAnnouncement {
        sender_id: row.sender_id,
        event: row.event,
        title: row.title,
        body: row.body,
        severity: Severity::parse(&row.severity).unwrap_or_default(),
        link: row.link,
    };
    Ok(Some(copy_to_inboxes(tx, id, &new, &recipients).await?))
}

async fn copy_to_inboxes(
    tx: &mut SqliteConnection,
    announcement_id: i64,
    new: &NewAnnouncement,
    recipients: &Recipients,
) -> Result<Vec<Delivered>, StoreError> {
    let now = now_ms();
    let filter = recipients.sql_filter();
    // Bump every recipient's sequence, then copy the new value into their row.
    let bump = format!("UPDATE users SET last_seq = last_seq + 1 WHERE {filter}");
    recipients
        .bind(sqlx::query(&bump))
        .execute(&mut *tx)
        .await?;
    let copy = format!(
        "INSERT INTO notifications (user_id, seq, announcement_id, event, title, body, severity, link, created_at)
         SELECT id, last_seq, ?, ?, ?, ?, ?, ?, ? FROM users WHERE {filter}"
    );
    let insert = sqlx::query(&copy)
        .bind(announcement_id)
        .bind(&new.event)
        .bind(&new.title)
        .bind(&new.body)
        .bind(new.severity.as_str())
        .bind(&new.link)
        .bind(now);
    let inserted = recipients
        .bind(insert)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
    sqlx::query("UPDATE announcements SET recipients = ?, sent_at = ? WHERE id = ?")
        .bind(inserted)
        .bind(now)
        .bind(announcement_id)
        .execute(&mut *tx)
        .await?;

    #[derive(sqlx::FromRow)]
    struct Copy {
        user_id: i64,
        #[sqlx(flatten)]
        row: NotificationRow,
        unread: i64,
    }
    let copies: Vec<Copy> = sqlx::query_as(&format!(
        "SELECT user_id, {COLUMNS},
                (SELECT COUNT(*) FROM notifications u WHERE u.user_id = n.user_id AND u.read_at IS NULL) AS unread
         FROM notifications n WHERE announcement_id = ? ORDER BY user_id"
    ))
    .bind(announcement_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(copies
        .into_iter()
        .map(|c| Delivered {
            announcement_id,
            user_id: c.user_id,
            event: new.event.clone(),
            notification: c.row.view(),
            unread: c.unread,
        })
        .collect())
}

/// Takes every copy of an announcement out of the inboxes (retract, expiry),
/// in the caller's transaction. `None` when there is no such announcement or
/// it was already removed.
pub async fn remove(
    tx: &mut SqliteConnection,
    id: i64,
    status: &str,
) -> Result<Option<Vec<Removed>>, StoreError> {
    let claimed = sqlx::query(
        "UPDATE announcements SET status = ?, removed_at = ? WHERE id = ? AND status IN ('scheduled', 'sent')",
    )
    .bind(status)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(None);
    }
    let copies: Vec<(i64, i64)> =
        sqlx::query_as("DELETE FROM notifications WHERE announcement_id = ? RETURNING user_id, id")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    let mut by_user: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for (user_id, copy_id) in copies {
        by_user.entry(user_id).or_default().push(copy_id);
    }
    let mut removed = Vec::with_capacity(by_user.len());
    for (user_id, ids) in by_user {
        let unread = unread_in(&mut *tx, user_id).await?;
        removed.push(Removed {
            user_id,
            ids,
            unread,
        });
    }
    Ok(Some(removed))
}

/// Announcements whose `expires_at` has passed and that are still in inboxes.
pub async fn expired_ids(pool: &Pool) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM announcements WHERE status = 'sent' AND expires_at IS NOT NULL AND expires_at <= ?",
    )
    .bind(now_ms())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// What admins sent (not Herald's own per-user notices, such as "your export
/// is ready"), newest first, with the funnel: recipients, delivered, read.
pub async fn history(pool: &Pool, limit: i64) -> Result<Vec<AnnouncementSummary>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        title: String,
        severity: String,
        target: String,
        status: String,
        created_at: i64,
        send_at: Option<i64>,
        expires_at: Option<i64>,
        recipients: i64,
        delivered: i64,
        read: i64,
        sender: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.title, a.severity, a.target, a.status, a.created_at, a.send_at, a.expires_at,
                a.recipients,
                (SELECT COUNT(*) FROM notifications n WHERE n.announcement_id = a.id AND n.delivered_at IS NOT NULL) AS delivered,
                (SELECT COUNT(*) FROM notifications n WHERE n.announcement_id = a.id AND n.read_at IS NOT NULL) AS read,
                (SELECT username FROM users u WHERE u.id = a.sender_id) AS sender
         FROM announcements a WHERE a.origin = 'admin' ORDER BY a.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AnnouncementSummary {
            id: r.id,
            title: r.title,
            severity: Severity::parse(&r.severity).unwrap_or_default(),
            target: r.target,
            status: r.status,
            sender: r.sender.unwrap_or_else(|| "herald".into()),
            created_at: rfc3339(r.created_at),
            send_at: r.send_at.map(rfc3339),
            expires_at: r.expires_at.map(rfc3339),
            recipients: r.recipients,
            delivered: r.delivered,
            read: r.read,
        })
        .collect())
}
