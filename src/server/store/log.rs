//! The event log (docs/event-log.md): entries appended in commit order, and
//! the channels each user sees.
//!
//! A broadcast is one entry in the channel `all`, whatever the number of
//! users; who sees it is decided on read, through the user's
//! `subscriptions` (spans of positions per channel).

use crate::model::{Channel, Role};
use crate::server::store::{
    dialect::{execute, fetch},
    Backend, StoreError, Tx,
};

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An announcement reached its channel.
    Notification,
    /// It left it again (retracted or expired).
    Removal,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Notification => "notification",
            Kind::Removal => "removal",
        }
    }
}

/// Where an entry sits: its global position (the SSE `id:`) and its offset
/// in its channel (consecutive per channel: what lets a client see a gap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub position: i64,
    pub channel: Channel,
    pub offset: i64,
}

/// A user's view of one channel: entries with `from < position <= to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub channel: Channel,
    pub from: i64,
    /// `None`: still a member.
    pub to: Option<i64>,
}

impl Span {
    pub fn covers(&self, channel: &Channel, position: i64) -> bool {
        self.channel == *channel && position > self.from && self.to.is_none_or(|to| position <= to)
    }

    /// The part of `(after, up_to]` this span sees, if any.
    pub fn window(&self, after: i64, up_to: i64) -> Option<(i64, i64)> {
        let lo = self.from.max(after);
        let hi = self.to.map_or(up_to, |to| to.min(up_to));
        (lo < hi).then_some((lo, hi))
    }
}

/// The last position in the log as this transaction sees it (0 for an
/// empty log; below the resume floor, the floor's predecessor, so that new
/// positions exceed every old per-user seq). In a write transaction holding
/// the publishing lock no other writer can move it.
pub async fn head(tx: &mut Tx) -> Result<i64, StoreError> {
    let (head,): (i64,) = fetch!(
        tx,
        fetch_one,
        (i64,),
        "SELECT GREATEST(COALESCE((SELECT MAX(position) FROM events), 0),
                         COALESCE((SELECT value FROM log_meta WHERE key = 'resume_floor'), 1) - 1)"
    )?;
    Ok(head)
}

/// What a follower must have applied to agree with this snapshot: the
/// head, or on PostgreSQL the last control entry if it is later (they
/// share the position sequence).
pub async fn follow_head(tx: &mut Tx) -> Result<i64, StoreError> {
    let head = head(tx).await?;
    if tx.backend() == Backend::Sqlite {
        return Ok(head);
    }
    // Pruned control entries count too: they were positions of the log.
    let (control,): (i64,) = fetch!(
        tx,
        fetch_one,
        (i64,),
        "SELECT GREATEST(COALESCE((SELECT MAX(position) FROM control_entries), 0),
                         COALESCE((SELECT value FROM log_meta WHERE key = 'control_pruned_through'), 0))"
    )?;
    Ok(head.max(control))
}

/// Positions below it are tokens of the per-user seqs of an older version
/// (a tab that was open across the upgrade): they get `resync`.
pub async fn resume_floor(tx: &mut Tx) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT value FROM log_meta WHERE key = 'resume_floor'"
    )?;
    Ok(row.map_or(0, |r| r.0))
}

/// Appends one entry in the caller's write transaction; returns where it
/// sits and how many users the channel has now. `category`: see [`record`].
pub async fn append(
    tx: &mut Tx,
    kind: Kind,
    channel: &Channel,
    announcement_id: i64,
    category: Option<&str>,
    removes: Option<i64>,
    now: i64,
) -> Result<(Entry, i64), StoreError> {
    let (offset, members) = advance(tx, channel).await?;
    let entry = record(
        tx,
        kind,
        channel,
        offset,
        announcement_id,
        category,
        removes,
        now,
    )
    .await?;
    Ok((entry, members))
}

/// The first half of [`append`]: the channel's head moves on by one (the
/// channel is created at its first entry). Returns the new offset and the
/// channel's member count, in one round trip. The caller must [`record`]
/// the entry at that offset in the same transaction.
pub async fn advance(tx: &mut Tx, channel: &Channel) -> Result<(i64, i64), StoreError> {
    let (offset, members): (i64, i64) = fetch!(
        tx,
        fetch_one,
        (i64, i64),
        "INSERT INTO channels (name, head_offset) VALUES (?, 1)
         ON CONFLICT (name) DO UPDATE SET head_offset = channels.head_offset + 1
         RETURNING head_offset, members",
        channel
    )?;
    Ok((offset, members))
}

/// The second half of [`append`]: the entry at `offset`, given its global
/// position, and the channel's last position.
///
/// `category`: the announcement's, on a notification entry (a removal's is
/// `None`: pages never list removals). Copied onto the entry so that a
/// category's page reads one index range per span (`events_by_category`,
/// migration `20261204000002`): O(spans × limit), not the whole channel.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    kind: Kind,
    channel: &Channel,
    offset: i64,
    announcement_id: i64,
    category: Option<&str>,
    removes: Option<i64>,
    now: i64,
) -> Result<Entry, StoreError> {
    let category = category.filter(|_| kind == Kind::Notification);
    // SQLite: AUTOINCREMENT under the write lock every writer takes first.
    // PostgreSQL: the sequence is called only under the publishing lock
    // (`Publisher`), held to commit, so positions follow commit order.
    let insert = match tx.backend() {
        Backend::Sqlite => {
            "INSERT INTO events (kind, channel, channel_offset, announcement_id, category, removes, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING position"
        }
        Backend::Postgres => {
            "INSERT INTO events (position, kind, channel, channel_offset, announcement_id, category, removes, created_at)
             VALUES (nextval('events_position'), ?, ?, ?, ?, ?, ?, ?) RETURNING position"
        }
    };
    let (position,): (i64,) = fetch!(
        tx,
        fetch_one,
        (i64,),
        insert,
        kind.as_str(),
        channel,
        offset,
        announcement_id,
        category,
        removes,
        now
    )?;
    execute!(
        tx,
        "UPDATE channels SET last_position = ? WHERE name = ?",
        position,
        channel
    )?;
    Ok(Entry {
        position,
        channel: *channel,
        offset,
    })
}

/// The channels a user sees, and since when.
pub async fn spans(tx: &mut Tx, user_id: i64) -> Result<Vec<Span>, StoreError> {
    let rows: Vec<(Channel, i64, Option<i64>)> = fetch!(
        tx,
        fetch_all,
        (Channel, i64, Option<i64>),
        "SELECT channel, from_pos, to_pos FROM subscriptions WHERE user_id = ? ORDER BY channel, from_pos",
        user_id
    )?;
    Ok(rows
        .into_iter()
        .map(|(channel, from, to)| Span { channel, from, to })
        .collect())
}

/// The heads of the channels a user is in now, for the browser's gap check.
pub async fn channel_heads(tx: &mut Tx, user_id: i64) -> Result<Vec<(Channel, i64)>, StoreError> {
    Ok(fetch!(
        tx,
        fetch_all,
        (Channel, i64),
        "SELECT c.name, c.head_offset FROM channels c
         WHERE c.name IN (SELECT channel FROM subscriptions WHERE user_id = ? AND to_pos IS NULL)
         ORDER BY c.name",
        user_id
    )?)
}

/// A new user joins `all`, their role's channel (from the head: what was
/// sent before is not theirs) and their own channel (from the start).
pub async fn join(tx: &mut Tx, user_id: i64, role: Role) -> Result<(), StoreError> {
    let head = head(tx).await?;
    for (channel, from) in [
        (Channel::All, head),
        (Channel::Role(role), head),
        (Channel::User(user_id), 0),
    ] {
        open_span(tx, user_id, &channel, from).await?;
    }
    // Delivered "up to the head": nothing before they joined is theirs.
    execute!(
        tx,
        "INSERT INTO user_cursors (user_id, delivered_up_to) VALUES (?, ?)",
        user_id,
        head
    )?;
    Ok(())
}

/// A role change: the old role's span ends at the head, the new one starts there.
pub async fn change_role(
    tx: &mut Tx,
    user_id: i64,
    from: Role,
    to: Role,
) -> Result<(), StoreError> {
    if from == to {
        return Ok(());
    }
    let head = head(tx).await?;
    close_span(tx, user_id, &Channel::Role(from), head).await?;
    open_span(tx, user_id, &Channel::Role(to), head).await
}

/// A user about to be deleted leaves their channels' member counts (their
/// spans go with the row).
pub async fn leave_all(tx: &mut Tx, user_id: i64, role: Role) -> Result<(), StoreError> {
    for channel in [Channel::All, Channel::Role(role), Channel::User(user_id)] {
        add_members(tx, &channel, -1).await?;
    }
    Ok(())
}

async fn open_span(
    tx: &mut Tx,
    user_id: i64,
    channel: &Channel,
    from: i64,
) -> Result<(), StoreError> {
    // Leaving and rejoining with no entry in between reopens the same span.
    execute!(
        tx,
        "INSERT INTO subscriptions (user_id, channel, from_pos) VALUES (?, ?, ?)
         ON CONFLICT (user_id, channel, from_pos) DO UPDATE SET to_pos = NULL",
        user_id,
        channel,
        from
    )?;
    add_members(tx, channel, 1).await
}

async fn close_span(
    tx: &mut Tx,
    user_id: i64,
    channel: &Channel,
    at: i64,
) -> Result<(), StoreError> {
    execute!(
        tx,
        "UPDATE subscriptions SET to_pos = ? WHERE user_id = ? AND channel = ? AND to_pos IS NULL",
        at,
        user_id,
        channel
    )?;
    // A span that saw nothing is no span.
    execute!(
        tx,
        "DELETE FROM subscriptions WHERE user_id = ? AND channel = ? AND to_pos = from_pos",
        user_id,
        channel
    )?;
    add_members(tx, channel, -1).await
}

async fn add_members(tx: &mut Tx, channel: &Channel, delta: i64) -> Result<(), StoreError> {
    execute!(
        tx,
        "INSERT INTO channels (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
        channel
    )?;
    execute!(
        tx,
        "UPDATE channels SET members = GREATEST(members + ?, 0) WHERE name = ?",
        delta,
        channel
    )?;
    Ok(())
}
