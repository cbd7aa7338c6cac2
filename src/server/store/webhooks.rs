//! Webhook endpoints, their outbox and their delivery attempts.
//!
//! The outbox is written by [`enqueue`] in the transaction of the event it
//! tells of (a publishing turn, a reader's turn, a funnel batch), so a
//! committed event always has its messages and a rolled-back one none.
//! One statement, one row per subscribed endpoint: O(endpoints), never
//! O(users). Each endpoint's rows are its queue, in id order; only the
//! head is ever sent, so a message goes out only after the one before it
//! was delivered. One instance at a time holds an endpoint (a lease on its
//! row), which keeps that order across a cluster.

use serde::Serialize;

use crate::model::{
    webhooks::{AnnouncementSentData, NotificationReadData},
    WebhookAttempt, WebhookEvent, WebhookView,
};
use crate::server::store::{
    audit::{self, Actor},
    begin_write, commit,
    dialect::{execute, fetch},
    now_ms, rfc3339, Pool, StoreError, Tx,
};

/// Attempts `list` shows per endpoint.
pub const RECENT_ATTEMPTS: i64 = 5;

/// `,a,b,`: see the migration.
pub fn events_to_row(events: &[WebhookEvent]) -> String {
    let mut row = String::from(",");
    for event in events {
        row.push_str(event.as_str());
        row.push(',');
    }
    row
}

fn events_from_row(row: &str) -> Vec<WebhookEvent> {
    row.split(',').filter_map(WebhookEvent::parse).collect()
}

/// Stores an endpoint; returns its id. The audit row is in its transaction.
pub async fn insert(
    pool: &Pool,
    url: &str,
    events: &[WebhookEvent],
    secret: &str,
    actor: Actor<'_>,
) -> Result<i64, StoreError> {
    let mut tx = begin_write(pool).await?;
    let row = events_to_row(events);
    let (id,): (i64,) = fetch!(
        tx,
        fetch_one,
        (i64,),
        "INSERT INTO webhook_endpoints (url, events, secret, created_by, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
        url,
        &row,
        secret,
        actor.name,
        now_ms()
    )?;
    audit::record(
        &mut tx,
        actor,
        "webhook.created",
        &format!("webhook:{id}"),
        &format!("{url} for {}", row.trim_matches(',')),
    )
    .await?;
    commit(tx).await?;
    Ok(id)
}

/// Removes an endpoint with its undelivered messages and its attempts;
/// `false` when there is none.
pub async fn remove(pool: &Pool, id: i64, actor: Actor<'_>) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let gone = execute!(tx, "DELETE FROM webhook_endpoints WHERE id = ?", id)?;
    if gone == 0 {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        actor,
        "webhook.removed",
        &format!("webhook:{id}"),
        "",
    )
    .await?;
    commit(tx).await?;
    Ok(true)
}

/// Every endpoint, newest first, with its pending count and latest attempts.
pub async fn list(pool: &Pool) -> Result<Vec<WebhookView>, StoreError> {
    let mut conn = pool.acquire().await?;
    let endpoints: Vec<(i64, String, String, String, i64)> = fetch!(
        conn,
        fetch_all,
        (i64, String, String, String, i64),
        "SELECT id, url, events, created_by, created_at FROM webhook_endpoints ORDER BY id DESC"
    )?;
    let mut views = Vec::with_capacity(endpoints.len());
    for (id, url, events, created_by, created_at) in endpoints {
        let (pending,): (i64,) = fetch!(
            conn,
            fetch_one,
            (i64,),
            "SELECT COUNT(*) FROM webhook_outbox WHERE endpoint_id = ? AND delivered_at IS NULL",
            id
        )?;
        type Row = (i64, String, i64, Option<i64>, Option<String>, i64);
        let attempts: Vec<Row> = fetch!(
            conn,
            fetch_all,
            Row,
            "SELECT outbox_id, event, attempted_at, status, error, duration_ms
             FROM webhook_attempts WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?",
            id,
            RECENT_ATTEMPTS
        )?;
        views.push(WebhookView {
            id,
            url,
            events: events_from_row(&events),
            created_by,
            created_at: rfc3339(created_at),
            pending,
            recent_attempts: attempts
                .into_iter()
                .map(|(outbox_id, event, at, status, error, duration_ms)| {
                    let status = status.and_then(|s| u16::try_from(s).ok());
                    WebhookAttempt {
                        message_id: message_id(outbox_id),
                        event,
                        at: rfc3339(at),
                        ok: status.is_some_and(|s| (200..300).contains(&s)),
                        status,
                        error,
                        duration_ms,
                    }
                })
                .collect(),
        });
    }
    Ok(views)
}

/// The `webhook-id` of an outbox row: the same on every retry.
pub fn message_id(outbox_id: i64) -> String {
    format!("msg_{outbox_id}")
}

/// The message body, `{"type","timestamp","data"}`, built once per event.
#[derive(Serialize)]
struct Body<'a, T: Serialize> {
    r#type: &'static str,
    timestamp: &'a str,
    data: &'a T,
}

/// Queues `event` for every endpoint subscribed to it, in the caller's
/// transaction (see the module's comment). One statement whatever the
/// number of endpoints; nothing when none is subscribed.
pub async fn enqueue<T: Serialize>(
    tx: &mut Tx,
    event: WebhookEvent,
    data: &T,
) -> Result<u64, StoreError> {
    let now = now_ms();
    let body = serde_json::to_string(&Body {
        r#type: event.as_str(),
        timestamp: &rfc3339(now),
        data,
    })
    .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    let queued = execute!(
        tx,
        "INSERT INTO webhook_outbox (endpoint_id, event, body, created_at, next_attempt_at)
         SELECT id, ?, ?, ?, ? FROM webhook_endpoints WHERE events LIKE ?",
        event.as_str(),
        &body,
        now,
        now,
        format!("%,{},%", event.as_str())
    )?;
    Ok(queued)
}

/// The announcements of these log positions (a read's `announcement_ids`).
pub async fn announcements_at(tx: &mut Tx, positions: &[i64]) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = fetch!(
        tx,
        fetch_all,
        (i64,),
        "SELECT announcement_id FROM events WHERE position IN {int_list}
         AND announcement_id IS NOT NULL ORDER BY position",
        crate::server::store::dialect::json_list(positions)
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Endpoints whose queue head is due now and that no instance holds:
/// what the delivery task starts on.
pub async fn due_endpoints(pool: &Pool, now: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(i64,)> = fetch!(
        conn,
        fetch_all,
        (i64,),
        "SELECT e.id FROM webhook_endpoints e
         JOIN webhook_outbox o ON o.id = (SELECT MIN(p.id) FROM webhook_outbox p
                                          WHERE p.endpoint_id = e.id AND p.delivered_at IS NULL)
         WHERE o.next_attempt_at <= ? AND (e.lease_until IS NULL OR e.lease_until < ?)
         ORDER BY o.next_attempt_at LIMIT ?",
        now,
        now,
        limit
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Takes (or extends) the endpoint for `owner` until `until`; `false` when
/// another instance holds it. One atomic update: two instances racing for
/// it cannot both win (PostgreSQL re-checks the condition on the row the
/// first one committed).
pub async fn lease(
    pool: &Pool,
    endpoint_id: i64,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    let taken = execute!(
        conn,
        "UPDATE webhook_endpoints SET lease_owner = ?, lease_until = ?
         WHERE id = ? AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)",
        owner,
        until,
        endpoint_id,
        now,
        owner
    )?;
    Ok(taken == 1)
}

pub async fn release(pool: &Pool, endpoint_id: i64, owner: &str) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL
         WHERE id = ? AND lease_owner = ?",
        endpoint_id,
        owner
    )?;
    Ok(())
}

/// The head of an endpoint's queue: its oldest undelivered message.
#[derive(Debug, Clone)]
pub struct Head {
    pub outbox_id: i64,
    pub event: String,
    pub body: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub url: String,
    pub secret: String,
}

pub async fn head(pool: &Pool, endpoint_id: i64) -> Result<Option<Head>, StoreError> {
    let mut conn = pool.acquire().await?;
    type Row = (i64, String, String, i64, i64, String, String);
    let row: Option<Row> = fetch!(
        conn,
        fetch_optional,
        Row,
        "SELECT o.id, o.event, o.body, o.attempts, o.next_attempt_at, e.url, e.secret
         FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id
         WHERE o.endpoint_id = ? AND o.delivered_at IS NULL ORDER BY o.id LIMIT 1",
        endpoint_id
    )?;
    Ok(row.map(
        |(outbox_id, event, body, attempts, next_attempt_at, url, secret)| Head {
            outbox_id,
            event,
            body,
            attempts,
            next_attempt_at,
            url,
            secret,
        },
    ))
}

/// One attempt at the head, as recorded.
pub struct Attempt<'a> {
    pub endpoint_id: i64,
    pub head: &'a Head,
    pub at: i64,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    /// `None`: delivered. `Some(t)`: try again at `t`.
    pub retry_at: Option<i64>,
}

/// Records the attempt and moves the queue: the head is delivered, or
/// waits until `retry_at`.
pub async fn record(pool: &Pool, attempt: &Attempt<'_>) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    match attempt.retry_at {
        None => execute!(
            tx,
            "UPDATE webhook_outbox SET attempts = attempts + 1, delivered_at = ? WHERE id = ?",
            attempt.at,
            attempt.head.outbox_id
        )?,
        Some(at) => execute!(
            tx,
            "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
            at,
            attempt.head.outbox_id
        )?,
    };
    execute!(
        tx,
        "INSERT INTO webhook_attempts (endpoint_id, outbox_id, event, attempted_at, status, error, duration_ms)
         SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?)",
        attempt.endpoint_id,
        attempt.head.outbox_id,
        &attempt.head.event,
        attempt.at,
        attempt.status.map(i64::from),
        attempt.error,
        attempt.duration_ms,
        attempt.endpoint_id
    )?;
    commit(tx).await
}

/// Forgets delivered messages and attempts older than `before`.
pub async fn prune(pool: &Pool, before: i64) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?",
        before
    )?;
    execute!(
        conn,
        "DELETE FROM webhook_attempts WHERE attempted_at < ?",
        before
    )?;
    Ok(())
}

/// `announcement.sent` for an entry just appended, in its transaction.
pub async fn announcement_sent(
    tx: &mut Tx,
    published: &crate::server::store::notifications::Published,
) -> Result<u64, StoreError> {
    let data = AnnouncementSentData {
        id: published.announcement_id,
        event: published.event.as_str().to_string(),
        title: published.notification.title.clone(),
        severity: published.notification.severity,
        target: published.entry.channel.to_string(),
        recipients: published.recipients,
        position: published.entry.position,
    };
    enqueue(tx, WebhookEvent::AnnouncementSent, &data).await
}

/// `notification.read` for one read action of `user`, in its transaction:
/// `positions` read one by one, or everything `up_to` a position.
pub async fn notification_read(
    tx: &mut Tx,
    user: &crate::model::UserView,
    read: &crate::model::ReadEvent,
) -> Result<u64, StoreError> {
    let announcement_ids = if read.ids.is_empty() {
        Vec::new()
    } else {
        announcements_at(tx, &read.ids).await?
    };
    let data = NotificationReadData {
        user_id: user.id,
        username: user.username.clone(),
        ids: read.ids.clone(),
        announcement_ids,
        up_to_position: read.up_to_position,
        archived: read.archived,
        unread: read.unread,
    };
    enqueue(tx, WebhookEvent::NotificationRead, &data).await
}

/// `notification.clicked` for a user's first click, in its transaction.
pub async fn notification_clicked(
    tx: &mut Tx,
    user: &crate::model::UserView,
    id: i64,
    announcement_id: i64,
    action: u8,
) -> Result<u64, StoreError> {
    let data = crate::model::webhooks::NotificationClickedData {
        user_id: user.id,
        username: user.username.clone(),
        id,
        announcement_id,
        action,
    };
    enqueue(tx, WebhookEvent::NotificationClicked, &data).await
}
