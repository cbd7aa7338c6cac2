//! The follower (PostgreSQL): each instance applies the shared log to its
//! own hub, in position order, exactly once — its own writes included.
//!
//! It keeps a cursor (the last position applied) and reads `position >
//! cursor` from both the event log and the control entries, merged by
//! position, whenever it is woken: by this instance's commits (at once), by
//! a `NOTIFY herald_log` from another instance's (the doorbell), or by a
//! one-second poll. A lost listener connection or a missed doorbell loses
//! nothing: the next read starts from the cursor. Positions are allocated
//! under the publishing advisory lock, held until the commit is visible,
//! so a snapshot that shows position P shows every smaller one: reading
//! `> cursor` never skips a row.

use std::{sync::Arc, time::Duration};

use tokio::sync::{Mutex, MutexGuard, Notify};

use crate::model::UserProgress;
use crate::server::{
    delivery::events::{self, DomainEvent},
    delivery::hub::Hub,
    store::{
        self, announcements::Removal, control, control::Control, log, notifications,
        notifications::Replayed, Pool, StoreError, Tx,
    },
};

/// Rows read per round trip.
const BATCH: i64 = 1_000;
/// The fallback poll, for a doorbell that never rang.
const POLL: Duration = Duration::from_secs(1);
/// The doorbell's channel.
pub const CHANNEL: &str = "herald_log";
/// Progress of users' tasks, from whichever instance runs them.
pub const PROGRESS_CHANNEL: &str = "herald_progress";

pub struct Follower {
    pool: Pool,
    hub: Hub,
    cursor: Mutex<i64>,
    wake: Notify,
}

impl Follower {
    /// Starts at `head`: what is already in the log was applied by no one
    /// here and is not this instance's to deliver (streams replay it).
    pub fn new(pool: Pool, hub: Hub, head: i64) -> Follower {
        Follower {
            pool,
            hub,
            cursor: Mutex::new(head),
            wake: Notify::new(),
        }
    }

    /// Holds the follower still (nothing is applied while the guard lives).
    pub async fn hold(&self) -> MutexGuard<'_, i64> {
        self.cursor.lock().await
    }

    /// Starts over from the log's head (`why`: what no longer lines up):
    /// every stream ends (clients come back with ids beyond the log and
    /// get `resync`), the counters are forgotten, and the cursor moves to
    /// the head.
    async fn reset(&self, mut tx: Tx, cursor: &mut i64, why: &str) -> Result<(), StoreError> {
        let head = log::follow_head(&mut tx).await?;
        tx.commit().await?;
        tracing::warn!(cursor = *cursor, head, "{why}; resetting every stream");
        self.hub.reset_to(head);
        *cursor = head;
        Ok(())
    }

    /// Applies everything visible now.
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        let mut cursor = self.cursor.lock().await;
        self.apply_through(&mut cursor, i64::MAX).await
    }

    /// Applies every entry after the cursor up to `up_to`, in position
    /// order, and moves the cursor; the caller holds it (see [`hold`]).
    pub async fn apply_through(&self, cursor: &mut i64, up_to: i64) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let mut tx = store::begin_read(&self.pool).await?;
            if control::pruned_through(&mut tx).await? > *cursor {
                // Behind the pruning (an instance paused for an hour): reads
                // it should have applied are gone. Start over from the head,
                // as after a log that went back.
                self.reset(tx, cursor, "fell behind the pruned log").await?;
                return Ok(applied);
            }
            let entries = notifications::entries_after(&mut tx, *cursor, up_to, BATCH).await?;
            let reads = control::reads_after(&mut tx, *cursor, up_to, BATCH).await?;
            // A full batch from one source ends the round at its last row:
            // the other source may hold rows beyond it not read yet.
            let full_entries = entries.len() as i64 == BATCH;
            let full_reads = reads.len() as i64 == BATCH;
            let mut cut = up_to;
            if full_entries {
                cut = cut.min(entries.last().map_or(up_to, Replayed::position));
            }
            if full_reads {
                cut = cut.min(reads.last().map_or(up_to, |r| r.0));
            }
            let mut rows: Vec<(i64, DomainEvent)> = Vec::new();
            for entry in entries {
                let position = entry.position();
                if position > cut {
                    break;
                }
                let event = match entry {
                    Replayed::Notification(published) => DomainEvent::Notified(published),
                    Replayed::Removal {
                        entry,
                        removes,
                        counts_as,
                    } => DomainEvent::Removed(Removal {
                        entry,
                        removes,
                        readers: notifications::readers_of(&mut tx, removes).await?,
                        counts_as,
                    }),
                };
                rows.push((position, event));
            }
            for (position, user_id, entry) in reads {
                if position > cut {
                    break;
                }
                let event = match entry {
                    Control::Read(read) => DomainEvent::NotificationsRead { user_id, read },
                    Control::Preferences(preferences) => DomainEvent::PreferencesChanged {
                        user_id,
                        preferences,
                    },
                };
                rows.push((position, event));
            }
            if rows.is_empty() && log::follow_head(&mut tx).await? < *cursor {
                // The log is behind what this instance applied: the database
                // was restored from a backup, or lost commits in a crash.
                // Nothing here can be trusted to line up.
                self.reset(tx, cursor, "the log went back").await?;
                return Ok(applied);
            }
            tx.commit().await?;
            rows.sort_by_key(|(position, _)| *position);
            let done = !(full_entries || full_reads);
            for (position, event) in rows {
                events::publish(&self.hub, [event]);
                self.hub.advance_to(position);
                *cursor = position;
                applied += 1;
            }
            if done {
                return Ok(applied);
            }
        }
    }

    /// A progress update heard from some instance (`model::UserProgress`,
    /// written by `Backplane::progress`): to this one's streams.
    fn progress(&self, payload: &str) {
        match serde_json::from_str::<UserProgress>(payload) {
            Ok(update) => {
                events::publish(&self.hub, [DomainEvent::Progress(update)]);
            }
            Err(e) => tracing::warn!(error = %e, "unreadable progress update"),
        }
    }

    /// Wakes the task at once (a commit on this instance).
    pub fn ring(&self) {
        self.wake.notify_one();
    }

    /// The follower's task: listen for the doorbell on a connection of its
    /// own, poll as a fallback, apply on each.
    pub fn spawn(self: Arc<Self>, database_url: String) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut listener = None;
            loop {
                if listener.is_none() {
                    listener = listen(&database_url).await;
                }
                let rang = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    heard = rang => match heard {
                        Ok(note) if note.channel() == PROGRESS_CHANNEL => {
                            self.progress(note.payload());
                            continue;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            // The connection dropped: listen again; the next
                            // read from the cursor loses nothing.
                            tracing::warn!(error = %e, "log listener lost; reconnecting");
                            listener = None;
                        }
                    },
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                if let Err(e) = self.catch_up().await {
                    tracing::warn!(error = %e, "following the log failed; will retry");
                }
            }
        })
    }
}

async fn listen(database_url: &str) -> Option<sqlx::postgres::PgListener> {
    let mut listener = match sqlx::postgres::PgListener::connect(database_url).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for the log; polling");
            return None;
        }
    };
    match listener.listen_all([CHANNEL, PROGRESS_CHANNEL]).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for the log; polling");
            None
        }
    }
}

/// The log's head in a fresh snapshot (where a follower starts).
pub async fn head(pool: &Pool) -> Result<i64, StoreError> {
    let mut tx = store::begin_read(pool).await?;
    let head = log::follow_head(&mut tx).await?;
    tx.commit().await?;
    Ok(head)
}
