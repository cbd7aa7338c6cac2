//! A user's inbox, read from the event log through their channels: pages,
//! unread counts, replays, and what they read or archive. Every query is
//! scoped to one user id.
//!
//! Visible to user `u`: notification entries in `u`'s spans, not removed.
//! Read: at or under `u`'s read-all watermark, or with an `inbox_state` row
//! saying so. The inbox: visible minus archived. Unread: visible, not read.

use crate::model::{Action, CategoryCounts, Channel, EventName, NotificationView, Severity};
use crate::server::store::{
    dialect::{execute, fetch},
    log::{self, Entry, Span},
    now_ms, preferences, rfc3339, Pool, StoreError, Tx,
};

/// What an admin composed, already validated.
#[derive(Debug, Clone)]
pub struct NewAnnouncement {
    /// `None` for what Herald itself sends (e.g. "your export is ready"):
    /// see [`NewAnnouncement::origin`].
    pub sender_id: Option<i64>,
    /// The service key that sent it, if one did.
    pub sender_key_id: Option<i64>,
    pub event: EventName,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    pub link: Option<String>,
    pub category: Option<String>,
    pub data: Option<serde_json::Value>,
    pub actions: Vec<Action>,
}

impl NewAnnouncement {
    /// `announcements.origin`: the admin's history lists only `admin` ones.
    pub fn origin(&self) -> &'static str {
        if self.sender_id.is_some() || self.sender_key_id.is_some() {
            "admin"
        } else {
            "system"
        }
    }
}

/// A notification entry as it goes out: to streams (with its event name)
/// and on pages.
#[derive(Debug, Clone)]
pub struct Published {
    pub announcement_id: i64,
    pub event: EventName,
    pub entry: Entry,
    pub notification: NotificationView,
    /// Users in the channel when it was appended (the funnel's recipients).
    pub recipients: i64,
}

impl Published {
    pub fn counts_as(&self) -> CountsAs {
        CountsAs::of(&self.notification)
    }
}

/// What a notification counts in: its category's count, and the badge
/// unless that category is muted and it is not critical (stored once with
/// the announcement, so every counter reads the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountsAs {
    pub category: Option<String>,
    pub critical: bool,
}

impl CountsAs {
    pub fn of(view: &NotificationView) -> CountsAs {
        CountsAs {
            category: view.category.clone(),
            critical: view.severity == Severity::Critical,
        }
    }

    /// Whether it raises the badge of a user who muted `muted`.
    pub fn in_badge(&self, muted: &impl Fn(&str) -> bool) -> bool {
        self.critical || !self.category.as_deref().is_some_and(muted)
    }
}

/// A user's unread counts, exact at one position: the badge (muted
/// categories left out, critical never) and each category's count
/// (muted included: the tabs show them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub unread: i64,
    pub by_category: CategoryCounts,
}

/// What a resuming stream replays, oldest first.
#[derive(Debug, Clone)]
pub enum Replayed {
    Notification(Published),
    Removal {
        entry: Entry,
        removes: i64,
        counts_as: CountsAs,
    },
}

impl Replayed {
    pub fn position(&self) -> i64 {
        match self {
            Replayed::Notification(p) => p.entry.position,
            Replayed::Removal { entry, .. } => entry.position,
        }
    }
}

/// The columns [`ItemRow`] reads: an entry joined with its announcement.
const ITEM_COLUMNS: &str =
    "e.position, e.kind, e.channel, e.channel_offset, e.removes, e.announcement_id,
    a.event, a.title, a.body, a.severity, a.link, a.category, a.data, a.actions, e.created_at";

#[derive(sqlx::FromRow)]
struct ItemRow {
    position: i64,
    kind: String,
    channel: Channel,
    channel_offset: i64,
    removes: Option<i64>,
    announcement_id: i64,
    #[sqlx(flatten)]
    announcement: Shown,
    created_at: i64,
    /// Computed per user: see [`read_expr`].
    read: bool,
}

impl ItemRow {
    fn entry(&self) -> Entry {
        Entry {
            position: self.position,
            channel: self.channel,
            offset: self.channel_offset,
        }
    }

    fn replayed(self) -> Replayed {
        if self.kind == "removal" {
            return Replayed::Removal {
                entry: self.entry(),
                removes: self.removes.unwrap_or_default(),
                counts_as: CountsAs {
                    category: self.announcement.category,
                    critical: self.announcement.severity == Severity::Critical,
                },
            };
        }
        Replayed::Notification(self.published())
    }

    fn published(self) -> Published {
        let entry = self.entry();
        self.announcement
            .published(self.announcement_id, entry, self.created_at, self.read, 0)
    }
}

/// The columns of an announcement that a notification shows, whichever
/// entry of the log shows it (an arrival, a snooze's return).
#[derive(sqlx::FromRow)]
pub(crate) struct Shown {
    event: EventName,
    title: String,
    body: String,
    severity: Severity,
    link: Option<String>,
    category: Option<String>,
    data: Option<String>,
    actions: Option<String>,
}

impl Shown {
    pub(crate) fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// The notification `entry` shows: its id is its position, it was
    /// appended at `created_at` (ms), `read` for this user.
    pub(crate) fn published(
        self,
        announcement_id: i64,
        entry: Entry,
        created_at: i64,
        read: bool,
        recipients: i64,
    ) -> Published {
        Published {
            announcement_id,
            notification: NotificationView {
                id: entry.position,
                position: entry.position,
                title: self.title,
                body: self.body,
                severity: self.severity,
                link: self.link,
                category: self.category,
                data: stored_data(self.data.as_deref()),
                actions: stored_actions(self.actions.as_deref()),
                created_at: rfc3339(created_at),
                read,
            },
            entry,
            event: self.event,
            recipients,
        }
    }
}

/// `announcements.data` as stored (written only from a checked object).
pub fn stored_data(raw: Option<&str>) -> Option<serde_json::Value> {
    raw.and_then(|d| serde_json::from_str(d).ok())
}

/// `announcements.actions` as stored (a JSON list of checked actions).
pub fn stored_actions(raw: Option<&str>) -> Vec<Action> {
    raw.and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default()
}

/// SQL for "user ?1 has read entry e": under the watermark ?2, or read or
/// archived one by one.
pub(crate) fn read_expr() -> &'static str {
    "(e.position <= ?2 OR EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?1
        AND st.position = e.position AND (st.read_at IS NOT NULL OR st.archived_at IS NOT NULL)))"
}

/// `(read_all_up_to, delivered_up_to)` of a user.
pub(crate) async fn cursors(tx: &mut Tx, user_id: i64) -> Result<(i64, i64), StoreError> {
    let row: Option<(i64, i64)> = fetch!(
        tx,
        fetch_optional,
        (i64, i64),
        "SELECT read_all_up_to, delivered_up_to FROM user_cursors WHERE user_id = ?",
        user_id
    )?;
    Ok(row.unwrap_or((0, 0)))
}

/// The user's unread counts, exact at the transaction's snapshot: visible
/// notification entries above the read-all watermark, not read one by one,
/// grouped by category and severity (one scan), then folded with the
/// user's muted categories into the badge. O(entries after the watermark
/// in the user's channels), as the single count was.
pub async fn counts_in(tx: &mut Tx, user_id: i64) -> Result<Counts, StoreError> {
    let (read_all, _) = cursors(tx, user_id).await?;
    let rows: Vec<(Option<String>, Severity, i64)> = fetch!(
        tx,
        fetch_all,
        (Option<String>, Severity, i64),
        "SELECT a.category, a.severity, COUNT(*) FROM subscriptions s
         JOIN events e ON e.channel = s.channel
              AND e.position > GREATEST(s.from_pos, ?2) AND e.position <= COALESCE(s.to_pos, 9223372036854775807)
         JOIN announcements a ON a.id = e.announcement_id
         WHERE s.user_id = ?1 AND e.kind = 'notification' AND e.removed_pos IS NULL
           AND NOT EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?1 AND st.position = e.position
                           AND (st.read_at IS NOT NULL OR st.archived_at IS NOT NULL))
         GROUP BY a.category, a.severity",
        user_id,
        read_all
    )?;
    let prefs = preferences::get(tx, user_id).await?;
    let muted = |c: &str| prefs.muted.iter().any(|m| m == c);
    let mut counts = Counts::default();
    for (category, severity, n) in rows {
        let counts_as = CountsAs {
            category,
            critical: severity == Severity::Critical,
        };
        if counts_as.in_badge(&muted) {
            counts.unread += n;
        }
        if let Some(category) = counts_as.category {
            *counts.by_category.entry(category).or_default() += n;
        }
    }
    Ok(counts)
}

/// The badge alone (see [`counts_in`]).
pub async fn unread_in(tx: &mut Tx, user_id: i64) -> Result<i64, StoreError> {
    Ok(counts_in(tx, user_id).await?.unread)
}

/// One inbox page and everything that must agree with it, read in one
/// snapshot: the items, the unread count, the log head (where the stream
/// resumes) and the heads of the user's channels (the browser's gap check).
#[derive(Debug, Clone)]
pub struct InboxSnapshot {
    pub items: Vec<NotificationView>,
    pub counts: Counts,
    pub head: i64,
    pub channels: Vec<(Channel, i64)>,
}

/// Newest first, strictly older than `before` (a position) when given;
/// with `category`, only that category's (a tab). The counts are the
/// user's whole counts either way.
pub async fn inbox(
    pool: &Pool,
    user_id: i64,
    before: Option<i64>,
    category: Option<&str>,
    limit: i64,
) -> Result<InboxSnapshot, StoreError> {
    let mut tx = crate::server::store::begin_read(pool).await?;
    let head = log::head(&mut tx).await?;
    let spans = log::spans(&mut tx, user_id).await?;
    let up_to = head.min(before.unwrap_or(i64::MAX) - 1);
    let scan = match category {
        Some(category) => Scan::Category(category),
        None => Scan::Inbox,
    };
    let rows = scan_spans(&mut tx, user_id, &spans, 0, up_to, scan, limit).await?;
    let items = rows
        .into_iter()
        .map(|r| r.published().notification)
        .collect();
    let counts = counts_in(&mut tx, user_id).await?;
    let channels = log::channel_heads(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(InboxSnapshot {
        items,
        counts,
        head,
        channels,
    })
}

/// Everything in the user's channels after `after`, up to `up_to`, oldest
/// first: notifications (with their read state now) and removals. At most
/// `limit`; the caller asks for one more than it will replay to learn
/// whether it is complete.
pub async fn replay(
    tx: &mut Tx,
    user_id: i64,
    spans: &[Span],
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<Replayed>, StoreError> {
    let rows = scan_spans(tx, user_id, spans, after, up_to, Scan::Replay, limit).await?;
    Ok(rows.into_iter().map(ItemRow::replayed).collect())
}

/// What [`scan_spans`] reads: an inbox page (whole or one category's) or
/// a replay.
#[derive(Clone, Copy)]
enum Scan<'a> {
    /// Notifications not removed and not archived, newest first.
    Inbox,
    /// The same, of one category: the entry's own `category` column, so
    /// each span is one range of `events_by_category` (channel, category,
    /// position) and a rare category costs its page, not the channel's log.
    Category(&'a str),
    /// Every entry (removals too), oldest first.
    Replay,
}

/// What an inbox page leaves out: removed and archived notifications (and
/// removals, which are no notifications).
const INBOX_FILTER: &str = "AND e.kind = 'notification' AND e.removed_pos IS NULL
     AND NOT EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?1
                     AND st.position = e.position AND st.archived_at IS NOT NULL)";

/// The entries of `(after, up_to]` the user sees through `spans`, with
/// their read state: one index range per span, at most `limit` each, then
/// merged in the scan's order and cut to `limit`. O(spans × limit).
async fn scan_spans(
    tx: &mut Tx,
    user_id: i64,
    spans: &[Span],
    after: i64,
    up_to: i64,
    scan: Scan<'_>,
    limit: i64,
) -> Result<Vec<ItemRow>, StoreError> {
    let (read_all, _) = cursors(tx, user_id).await?;
    // The inbox starts above what archive-read archived wholesale.
    let after = match scan {
        Scan::Inbox | Scan::Category(_) => after.max(archived_up_to(tx, user_id).await?),
        Scan::Replay => after,
    };
    let sql = span_sql(scan);
    let mut rows = Vec::new();
    for span in spans {
        let Some((lo, hi)) = span.window(after, up_to) else {
            continue;
        };
        // The same six parameters, and a category's slug as ?7 when the
        // query has one (a parameter it does not name cannot be bound).
        macro_rules! span_rows {
            ($($category:expr)?) => {
                fetch!(tx, fetch_all, ItemRow, &sql, user_id, read_all, &span.channel, lo, hi, limit $(, $category)?)
            };
        }
        let found: Vec<ItemRow> = match scan {
            Scan::Category(category) => span_rows!(category)?,
            Scan::Inbox | Scan::Replay => span_rows!()?,
        };
        rows.extend(found);
    }
    match scan {
        Scan::Inbox | Scan::Category(_) => rows.sort_by_key(|r| std::cmp::Reverse(r.position)),
        Scan::Replay => rows.sort_by_key(|r| r.position),
    }
    rows.truncate(limit.max(0) as usize);
    Ok(rows)
}

/// The query of one span for [`scan_spans`]: ?1 user, ?2 read-all
/// watermark, ?3 channel, ?4..?5 the positions, ?6 the limit and, for a
/// category, ?7 its slug.
fn span_sql(scan: Scan<'_>) -> String {
    let (filter, order) = match scan {
        Scan::Inbox => (INBOX_FILTER.to_string(), "DESC"),
        Scan::Category(_) => (format!("{INBOX_FILTER} AND e.category = ?7"), "DESC"),
        Scan::Replay => (String::new(), "ASC"),
    };
    format!(
        "SELECT {ITEM_COLUMNS}, {} AS read FROM events e JOIN announcements a ON a.id = e.announcement_id
         WHERE e.channel = ?3 AND e.position > ?4 AND e.position <= ?5 {filter}
         ORDER BY e.position {order} LIMIT ?6",
        read_expr()
    )
}

/// One span's query of a category's page as `backend` runs it, for the
/// tests that ask the database for its plan (`tests/integration/
/// categories.rs`: it must read `events_by_category`, not walk the channel).
#[doc(hidden)]
pub fn category_span_sql(backend: crate::server::store::Backend) -> String {
    use crate::server::store::{dialect, Backend};
    let sql = span_sql(Scan::Category(""));
    match backend {
        Backend::Sqlite => dialect::sqlite(&sql).into_owned(),
        Backend::Postgres => dialect::postgres(&sql),
    }
}

/// Every entry after `after`, up to `up_to`, oldest first, at most `limit`:
/// what a follower applies to its hub (issue 10: one per instance).
pub async fn entries_after(
    tx: &mut Tx,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<Replayed>, StoreError> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, FALSE AS read FROM events e JOIN announcements a ON a.id = e.announcement_id
         WHERE e.position > ? AND e.position <= ? ORDER BY e.position LIMIT ?"
    );
    let rows: Vec<ItemRow> = fetch!(tx, fetch_all, ItemRow, &sql, after, up_to, limit)?;
    Ok(rows.into_iter().map(ItemRow::replayed).collect())
}

/// The users who had read the notification at `position` one by one (a
/// removal's `readers`).
pub async fn readers_of(tx: &mut Tx, position: i64) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = fetch!(
        tx,
        fetch_all,
        (i64,),
        "SELECT user_id FROM inbox_state WHERE position = ? AND (read_at IS NOT NULL OR archived_at IS NOT NULL)",
        position
    )?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// What a live counter starts from: the unread count, the read-all
/// watermark and the spans, exact at `head`. The caller holds the
/// publishing lock, so nothing is appended between this and its attach.
#[derive(Debug, Clone)]
pub struct CounterSeed {
    pub counts: Counts,
    /// The user's muted categories, which the live counter applies to
    /// every entry after this.
    pub muted: Vec<String>,
    pub read_all_up_to: i64,
    pub spans: Vec<Span>,
    pub head: i64,
}

pub async fn counter_seed(pool: &Pool, user_id: i64) -> Result<CounterSeed, StoreError> {
    let mut tx = crate::server::store::begin_read(pool).await?;
    let head = log::follow_head(&mut tx).await?;
    let (read_all_up_to, _) = cursors(&mut tx, user_id).await?;
    let spans = log::spans(&mut tx, user_id).await?;
    let counts = counts_in(&mut tx, user_id).await?;
    let muted = preferences::get(&mut tx, user_id).await?.muted;
    tx.commit().await?;
    Ok(CounterSeed {
        counts,
        muted,
        read_all_up_to,
        spans,
        head,
    })
}

/// A notification the user can see: its announcement, and the entry it
/// brings back when it is a snooze's return (see `store::snoozes`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visible {
    pub announcement_id: i64,
    pub returns: Option<i64>,
}

/// The announcement behind a notification the user can see, if any (a
/// position outside their channels, removed, or not a notification: none;
/// someone else's is indistinguishable from none).
pub(crate) async fn visible(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
) -> Result<Option<Visible>, StoreError> {
    let row: Option<(i64, Option<i64>)> = fetch!(
        tx,
        fetch_optional,
        (i64, Option<i64>),
        "SELECT e.announcement_id, e.returns FROM events e
         JOIN subscriptions s ON s.user_id = ? AND s.channel = e.channel
              AND e.position > s.from_pos AND (s.to_pos IS NULL OR e.position <= s.to_pos)
         WHERE e.position = ? AND e.kind = 'notification' AND e.removed_pos IS NULL",
        user_id,
        position
    )?;
    Ok(row.map(|(announcement_id, returns)| Visible {
        announcement_id,
        returns,
    }))
}

/// Whether the user had read the entry (watermark or a state row).
async fn was_read(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
    read_all: i64,
) -> Result<bool, StoreError> {
    if position <= read_all {
        return Ok(true);
    }
    let row: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT user_id FROM inbox_state WHERE user_id = ? AND position = ?
         AND (read_at IS NOT NULL OR archived_at IS NOT NULL)",
        user_id,
        position
    )?;
    Ok(row.is_some())
}

/// Marks one notification read (`archive`: and takes it out of the inbox);
/// returns the new counts, or `None` when the user cannot see it.
/// The funnel's read count moves in the same transaction (the caller's).
pub async fn mark_read(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
    archive: bool,
) -> Result<Option<Counts>, StoreError> {
    if set_read(tx, user_id, position, archive).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(counts_in(tx, user_id).await?))
}

/// Archives each of `positions` (read, out of the inbox); returns the new
/// counts, or the first position the user cannot see (then the caller
/// rolls its turn back: all or nothing). O(ids) probes, one count.
pub async fn archive_many(
    tx: &mut Tx,
    user_id: i64,
    positions: &[i64],
) -> Result<Result<Counts, i64>, StoreError> {
    for &position in positions {
        if set_read(tx, user_id, position, true).await?.is_none() {
            return Ok(Err(position));
        }
    }
    Ok(Ok(counts_in(tx, user_id).await?))
}

/// The state row of one read (or archive), and its funnel count: once per
/// user and announcement, so a snooze's return (a copy of an entry already
/// counted when it was snoozed) never counts again. `None`: not visible.
async fn set_read(
    tx: &mut Tx,
    user_id: i64,
    position: i64,
    archive: bool,
) -> Result<Option<()>, StoreError> {
    let Some(seen) = visible(tx, user_id, position).await? else {
        return Ok(None);
    };
    let (read_all, _) = cursors(tx, user_id).await?;
    let already = was_read(tx, user_id, position, read_all).await?;
    let now = now_ms();
    if archive || !already {
        execute!(
            tx,
            "INSERT INTO inbox_state (user_id, position, read_at, archived_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, position) DO UPDATE SET
                read_at = COALESCE(inbox_state.read_at, excluded.read_at),
                archived_at = COALESCE(inbox_state.archived_at, excluded.archived_at)",
            user_id,
            position,
            now,
            archive.then_some(now)
        )?;
    }
    if !already && seen.returns.is_none() {
        execute!(
            tx,
            "UPDATE announcements SET read_count = read_count + 1 WHERE id = ?",
            seen.announcement_id
        )?;
    }
    Ok(Some(()))
}

/// Archives everything the user has read: the rows read one by one get
/// `archived_at`, and what the read-all watermark covers is archived by
/// moving `archived_up_to` to it (no row per entry). The counts do not
/// change; returns them, exact, and the watermark archived up to.
/// O(the user's state rows).
pub async fn archive_read(tx: &mut Tx, user_id: i64) -> Result<(i64, Counts), StoreError> {
    execute!(
        tx,
        "UPDATE inbox_state SET archived_at = ? WHERE user_id = ? AND read_at IS NOT NULL AND archived_at IS NULL",
        now_ms(),
        user_id
    )?;
    execute!(
        tx,
        "UPDATE user_cursors SET archived_up_to = read_all_up_to WHERE user_id = ?",
        user_id
    )?;
    let (read_all, _) = cursors(tx, user_id).await?;
    Ok((read_all, counts_in(tx, user_id).await?))
}

/// Everything at or below it is archived (see [`archive_read`]).
async fn archived_up_to(tx: &mut Tx, user_id: i64) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT archived_up_to FROM user_cursors WHERE user_id = ?",
        user_id
    )?;
    Ok(row.map_or(0, |r| r.0))
}

/// The unread notifications of one category the user sees up to ?3
/// (?1 the user, ?2 their read-all watermark, ?4 the category): what
/// reading that category takes, O(its unread).
const UNREAD_IN_CATEGORY: &str = "SELECT e.position, e.announcement_id, e.returns FROM subscriptions s
    JOIN events e ON e.channel = s.channel
         AND e.position > GREATEST(s.from_pos, ?2) AND e.position <= LEAST(COALESCE(s.to_pos, ?3), ?3)
    JOIN announcements a ON a.id = e.announcement_id
    WHERE s.user_id = ?1 AND e.kind = 'notification' AND e.removed_pos IS NULL AND a.category = ?4
      AND NOT EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?1 AND st.position = e.position
                      AND (st.read_at IS NOT NULL OR st.archived_at IS NOT NULL))";

/// Marks everything the user can see so far read: the watermark moves to
/// the head, and each announcement newly read counts once in its funnel.
/// With `category`, only that category's: one state row per notification
/// newly read (the watermark covers every category, so it cannot move).
/// Returns the head (the event's `up_to_position`) and the new counts. In
/// the caller's write transaction.
pub async fn mark_all_read(
    tx: &mut Tx,
    user_id: i64,
    category: Option<&str>,
) -> Result<(i64, Counts), StoreError> {
    let head = log::head(tx).await?;
    let (read_all, _) = cursors(tx, user_id).await?;
    if let Some(category) = category {
        let sql = format!(
            "UPDATE announcements SET read_count = read_count + 1 WHERE id IN (
                SELECT announcement_id FROM ({UNREAD_IN_CATEGORY}) unread WHERE returns IS NULL)"
        );
        execute!(tx, &sql, user_id, read_all, head, category)?;
        let sql = format!(
            "INSERT INTO inbox_state (user_id, position, read_at, archived_at)
             SELECT ?1, position, ?5, NULL FROM ({UNREAD_IN_CATEGORY}) unread WHERE TRUE
             ON CONFLICT (user_id, position) DO UPDATE SET
                read_at = COALESCE(inbox_state.read_at, excluded.read_at)"
        );
        execute!(tx, &sql, user_id, read_all, head, category, now_ms())?;
        return Ok((head, counts_in(tx, user_id).await?));
    }
    execute!(
        tx,
        "UPDATE announcements SET read_count = read_count + 1 WHERE id IN (
            SELECT e.announcement_id FROM subscriptions s
            JOIN events e ON e.channel = s.channel
                 AND e.position > GREATEST(s.from_pos, ?2) AND e.position <= LEAST(COALESCE(s.to_pos, ?3), ?3)
            WHERE s.user_id = ?1 AND e.kind = 'notification' AND e.removed_pos IS NULL AND e.returns IS NULL
              AND NOT EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = ?1 AND st.position = e.position
                              AND (st.read_at IS NOT NULL OR st.archived_at IS NOT NULL)))",
        user_id,
        read_all,
        head
    )?;
    execute!(
        tx,
        "UPDATE user_cursors SET read_all_up_to = GREATEST(read_all_up_to, ?) WHERE user_id = ?",
        head,
        user_id
    )?;
    // Rows that only said "read" are now said by the watermark.
    execute!(
        tx,
        "DELETE FROM inbox_state WHERE user_id = ? AND position <= ? AND archived_at IS NULL",
        user_id,
        head
    )?;
    Ok((head, counts_in(tx, user_id).await?))
}
