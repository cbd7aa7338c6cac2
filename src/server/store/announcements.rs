//! Announcements over their life: scheduled, sent (appended once to the
//! event log of their channel), then possibly retracted or expired (a
//! removal appended after it).

use crate::model::{AnnouncementSummary, Channel, EventName, NotificationView, Severity};
use crate::server::store::{
    dialect::{execute, fetch},
    log::{self, Entry, Kind},
    notifications::{CountsAs, NewAnnouncement, Published},
    now_ms, rfc3339, Pool, StoreError, Tx,
};

/// When an announcement goes out and when it leaves inboxes (unix ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    pub send_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A removal appended to the log: which notification it takes out, and the
/// users who had read that one by one (their unread counts do not move).
#[derive(Debug, Clone)]
pub struct Removal {
    pub entry: Entry,
    pub removes: i64,
    pub readers: Vec<i64>,
    /// The removed notification's category and severity.
    pub counts_as: CountsAs,
}

/// Stores the announcement in the caller's transaction (begun with
/// [`crate::server::store::begin_write`]) and, unless it is scheduled for later, appends
/// it to its channel: one row whatever the number of recipients. What was
/// appended is returned for publishing once the caller has committed.
pub async fn insert(
    tx: &mut Tx,
    new: &NewAnnouncement,
    channel: &Channel,
    timing: Timing,
) -> Result<(i64, Option<Published>), StoreError> {
    let now = now_ms();
    let scheduled = timing.send_at.is_some_and(|at| at > now);
    // Sent now: the channel's head moves first, so that the announcement is
    // stored with its recipients and the entry follows (three statements,
    // each returning what the next needs).
    let head = if scheduled {
        None
    } else {
        Some(log::advance(tx, channel).await?)
    };
    if let Some(category) = &new.category {
        crate::server::store::categories::ensure(tx, category).await?;
    }
    let (id,): (i64,) = fetch!(
        tx,
        fetch_one,
        (i64,),
        "INSERT INTO announcements
           (sender_id, event, title, body, severity, link, target, recipients, created_at, status, send_at, expires_at, origin, sender_key_id, sent_at,
            category, data, actions)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        new.sender_id,
        &new.event,
        &new.title,
        &new.body,
        new.severity.as_str(),
        &new.link,
        channel,
        head.map_or(0, |(_, members)| members),
        now,
        if scheduled { "scheduled" } else { "sent" },
        timing.send_at,
        timing.expires_at,
        new.origin(),
        new.sender_key_id,
        head.map(|_| now),
        &new.category,
        new.data.as_ref().map(|d| d.to_string()),
        (!new.actions.is_empty()).then(|| crate::server::store::dialect::json_list(&new.actions))
    )?;
    let Some((offset, members)) = head else {
        return Ok((id, None));
    };
    let entry = log::record(
        tx,
        Kind::Notification,
        channel,
        offset,
        id,
        new.category.as_deref(),
        None,
        now,
    )
    .await?;
    Ok((id, Some(published(id, new, entry, members, now))))
}

/// The custom event names sent so far (at most `limit`, oldest first):
/// what a starting hub tells the pages it serves (`hub/names.rs`).
pub async fn custom_event_names(pool: &Pool, limit: usize) -> Result<Vec<EventName>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(EventName,)> = fetch!(
        conn,
        fetch_all,
        (EventName,),
        "SELECT event FROM announcements WHERE event <> 'notification' AND status <> 'scheduled'
         GROUP BY event ORDER BY MIN(id) LIMIT ?",
        limit as i64
    )?;
    Ok(rows.into_iter().map(|(e,)| e).collect())
}

/// Scheduled announcements whose time has come by the database's clock
/// (one clock for every instance), in the order they are due.
pub async fn due_ids(pool: &Pool) -> Result<Vec<i64>, StoreError> {
    select_ids(
        pool,
        "SELECT id FROM announcements WHERE status = 'scheduled' AND send_at <= {now_ms} ORDER BY send_at, id",
    )
    .await
}

/// Sends one due announcement in the caller's transaction: claims it and
/// appends it. `None` when it is no longer scheduled.
pub async fn send_scheduled(tx: &mut Tx, id: i64) -> Result<Option<Published>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        sender_id: Option<i64>,
        sender_key_id: Option<i64>,
        event: EventName,
        title: String,
        body: String,
        severity: Severity,
        link: Option<String>,
        target: Channel,
        category: Option<String>,
        data: Option<String>,
        actions: Option<String>,
    }
    // Claimed inside the transaction, so a second scheduler cannot send it twice.
    let row: Option<Row> = fetch!(
        tx,
        fetch_optional,
        Row,
        "UPDATE announcements SET status = 'sent' WHERE id = ? AND status = 'scheduled' AND send_at <= {now_ms}
         RETURNING sender_id, sender_key_id, event, title, body, severity, link, target, category, data, actions",
        id
    )?;
    let Some(row) = row else { return Ok(None) };
    let new = NewAnnouncement {
        sender_id: row.sender_id,
        sender_key_id: row.sender_key_id,
        event: row.event,
        title: row.title,
        body: row.body,
        severity: row.severity,
        link: row.link,
        category: row.category,
        data: crate::server::store::notifications::stored_data(row.data.as_deref()),
        actions: crate::server::store::notifications::stored_actions(row.actions.as_deref()),
    };
    Ok(Some(publish(tx, id, &new, &row.target).await?))
}

/// Appends the announcement to its channel; its recipients are the
/// channel's members at that position (who will see it on read).
async fn publish(
    tx: &mut Tx,
    announcement_id: i64,
    new: &NewAnnouncement,
    channel: &Channel,
) -> Result<Published, StoreError> {
    let now = now_ms();
    let (entry, members) = log::append(
        tx,
        Kind::Notification,
        channel,
        announcement_id,
        new.category.as_deref(),
        None,
        now,
    )
    .await?;
    execute!(
        tx,
        "UPDATE announcements SET recipients = ?, sent_at = ? WHERE id = ?",
        members,
        now,
        announcement_id
    )?;
    Ok(published(announcement_id, new, entry, members, now))
}

/// What was appended, for the hub once committed.
fn published(
    announcement_id: i64,
    new: &NewAnnouncement,
    entry: log::Entry,
    members: i64,
    now: i64,
) -> Published {
    Published {
        announcement_id,
        event: new.event.clone(),
        notification: NotificationView {
            id: entry.position,
            position: entry.position,
            title: new.title.clone(),
            body: new.body.clone(),
            severity: new.severity,
            link: new.link.clone(),
            category: new.category.clone(),
            data: new.data.clone(),
            actions: new.actions.clone(),
            created_at: rfc3339(now),
            read: false,
        },
        entry,
        recipients: members,
    }
}

/// Takes an announcement out of every inbox (retract, expiry), in the
/// caller's transaction: a removal entry per live entry of it (its own, and
/// each snooze's return in a user's channel), and their tombstones. `None`
/// when there is no such announcement or it was already removed; an empty
/// list when it was scheduled and never reached anyone.
pub async fn remove(
    tx: &mut Tx,
    id: i64,
    status: &str,
) -> Result<Option<Vec<Removal>>, StoreError> {
    let now = now_ms();
    let claimed: Option<(Channel, Option<String>, Severity)> = fetch!(
        tx,
        fetch_optional,
        (Channel, Option<String>, Severity),
        "UPDATE announcements SET status = ?, removed_at = ? WHERE id = ? AND status IN ('scheduled', 'sent')
         RETURNING target, category, severity",
        status,
        now,
        id
    )?;
    let Some((_, category, severity)) = claimed else {
        return Ok(None);
    };
    // Every live entry of the announcement counts in the same category.
    let counts_as = CountsAs {
        category,
        critical: severity == Severity::Critical,
    };
    // The original first, then the returns, each in its own channel: one
    // removal per user who snoozed it, besides the one for the channel.
    let live: Vec<(i64, Channel)> = fetch!(
        tx,
        fetch_all,
        (i64, Channel),
        "SELECT position, channel FROM events WHERE announcement_id = ? AND kind = 'notification'
         AND removed_pos IS NULL ORDER BY position",
        id
    )?;
    let mut removals = Vec::with_capacity(live.len());
    for (removes, channel) in live {
        let (entry, _) =
            log::append(tx, Kind::Removal, &channel, id, None, Some(removes), now).await?;
        execute!(
            tx,
            "UPDATE events SET removed_pos = ? WHERE position = ?",
            entry.position,
            removes
        )?;
        // Exact: a removed entry can no longer be read (mark-read checks the
        // tombstone in its own write transaction), so these read it before.
        let readers = crate::server::store::notifications::readers_of(tx, removes).await?;
        removals.push(Removal {
            entry,
            removes,
            readers,
            counts_as: counts_as.clone(),
        });
    }
    Ok(Some(removals))
}

/// Announcements whose `expires_at` has passed and that are still in inboxes.
pub async fn expired_ids(pool: &Pool) -> Result<Vec<i64>, StoreError> {
    select_ids(
        pool,
        "SELECT id FROM announcements WHERE status = 'sent' AND expires_at IS NOT NULL AND expires_at <= {now_ms}",
    )
    .await
}

/// The ids `sql` (no arguments) selects, outside any transaction: what a
/// background task's tick starts from.
async fn select_ids(pool: &Pool, sql: &str) -> Result<Vec<i64>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(i64,)> = fetch!(conn, fetch_all, (i64,), sql)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// What admins sent (not Herald's own per-user notices, such as "your export
/// is ready"), newest first, with the funnel: recipients, delivered, read.
pub async fn history(pool: &Pool, limit: i64) -> Result<Vec<AnnouncementSummary>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        title: String,
        severity: Severity,
        target: Channel,
        status: String,
        created_at: i64,
        send_at: Option<i64>,
        expires_at: Option<i64>,
        recipients: i64,
        delivered: i64,
        read: i64,
        clicked: i64,
        sender: Option<String>,
    }
    let mut conn = pool.acquire().await?;
    let rows: Vec<Row> = fetch!(
        conn,
        fetch_all,
        Row,
        "SELECT a.id, a.title, a.severity, a.target, a.status, a.created_at, a.send_at, a.expires_at,
                a.recipients, a.delivered_count AS delivered, a.read_count AS read, a.click_count AS clicked,
                COALESCE((SELECT username FROM users u WHERE u.id = a.sender_id),
                         (SELECT 'key:' || k.name FROM api_keys k WHERE k.id = a.sender_key_id)) AS sender
         FROM announcements a WHERE a.origin = 'admin' ORDER BY a.id DESC LIMIT ?",
        limit
    )?;
    Ok(rows
        .into_iter()
        .map(|r| AnnouncementSummary {
            id: r.id,
            title: r.title,
            severity: r.severity,
            target: r.target,
            status: r.status,
            sender: r.sender.unwrap_or_else(|| "herald".into()),
            created_at: rfc3339(r.created_at),
            send_at: r.send_at.map(rfc3339),
            expires_at: r.expires_at.map(rfc3339),
            recipients: r.recipients,
            delivered: r.delivered,
            read: r.read,
            clicked: r.clicked,
        })
        .collect())
}
