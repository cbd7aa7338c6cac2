//! The one publishing path. Every change that must reach streams — a
//! notification, a removal, a read — is written in a transaction taken
//! here, and applied to the hub right after its commit, in commit order.
//! Use cases hand the Publisher their writes and the domain events they
//! produce; they never take a lock themselves.
//!
//! Why one ordering lock around "commit, then apply": the hub's counters
//! and its `applied` position must follow the log in the order the store
//! committed it (a read's absolute count, applied before a broadcast
//! committed ahead of it, would lose that broadcast from the counter). On
//! SQLite every write transaction is serial anyway (`BEGIN IMMEDIATE`), so
//! the lock costs no concurrency the database would have allowed. Issue 10
//! puts the same API over PostgreSQL: the writer appends under an advisory
//! lock, and every instance's follower applies the log in position order.

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use crate::model::{ProgressEvent, UserProgress};
use crate::server::{
    delivery::events::{self, DomainEvent},
    delivery::follower::Follower,
    delivery::hub::{AttachError, Attached, ClientInfo, Hub},
    store::{self, control, dialect::execute, notifications, Backend, Pool, StoreError, Tx},
};

/// The advisory lock key of the publishing turn on PostgreSQL ("herald" in ASCII).
const PUBLISHING_LOCK: i64 = 0x6865_7261_6c64;

pub struct Publisher {
    pool: Pool,
    hub: Hub,
    order: Mutex<()>,
    /// On PostgreSQL: this instance's follower, which applies the log —
    /// its own commits included — to the hub. On SQLite the Publisher
    /// applies its commits itself.
    follower: Option<Arc<Follower>>,
}

/// A turn to publish: the ordering lock and a write transaction. Dropped
/// without [`Turn::commit`], it rolls back and lets the next turn go.
pub struct Turn<'p> {
    pub tx: Tx,
    publisher: &'p Publisher,
    _order: MutexGuard<'p, ()>,
}

impl Publisher {
    pub fn new(pool: Pool, hub: Hub, follower: Option<Arc<Follower>>) -> Publisher {
        Publisher {
            pool,
            hub,
            order: Mutex::new(()),
            follower,
        }
    }

    pub fn follower(&self) -> Option<&Arc<Follower>> {
        self.follower.as_ref()
    }

    /// Waits for the turn, then begins the write transaction. On
    /// PostgreSQL the turn is cluster-wide: a transaction-level advisory
    /// lock, held until commit, so that log positions (allocated inside the
    /// turn) follow commit order across instances. PostgreSQL makes a
    /// commit visible before it releases the transaction's locks, so the
    /// next turn's position is allocated only once the last is visible.
    pub async fn begin(&self) -> Result<Turn<'_>, StoreError> {
        let order = self.order.lock().await;
        let mut tx = store::begin_write(&self.pool).await?;
        if tx.backend() == Backend::Postgres {
            execute!(tx, "SELECT pg_advisory_xact_lock(?)", PUBLISHING_LOCK)?;
        }
        Ok(Turn {
            tx,
            publisher: self,
            _order: order,
        })
    }

    /// Progress of a user's task: every tab of theirs, on every instance.
    /// Unordered and lossy by design (each update supersedes the last; the
    /// end of a task is a durable notification): on PostgreSQL a
    /// `pg_notify` that every instance's follower hears, this one included.
    pub async fn progress(&self, user_id: i64, task_id: &str, progress: u8, status: &str) {
        let update = UserProgress {
            user_id,
            progress: ProgressEvent {
                task_id: task_id.to_string(),
                progress,
                status: status.to_string(),
            },
        };
        if self.follower.is_none() {
            events::publish(&self.hub, [DomainEvent::Progress(update)]);
            return;
        }
        // Read back by `Follower::progress`, as the same type.
        let payload = serde_json::to_string(&update).unwrap_or_default();
        let sent = async {
            let mut conn = self.pool.acquire().await?;
            execute!(
                conn,
                "SELECT pg_notify(?, ?)",
                crate::server::delivery::follower::PROGRESS_CHANNEL,
                payload
            )?;
            Ok::<_, StoreError>(())
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %e, "progress not sent");
        }
    }

    /// Attaches a stream with a counter seeded from the store, while
    /// nothing is applied to the hub: the count is exact at the position
    /// the hub holds. SQLite: under the ordering lock (every apply happens
    /// under it). PostgreSQL: the follower is held, brought exactly to the
    /// seed's snapshot, and attached there.
    pub async fn attach_seeded(
        &self,
        info: ClientInfo,
    ) -> Result<Result<Attached, AttachError>, StoreError> {
        match &self.follower {
            None => {
                let _order = self.order.lock().await;
                let seed = notifications::counter_seed(&self.pool, info.user_id).await?;
                Ok(self.hub.attach(info, Some(seed)))
            }
            Some(follower) => {
                let mut cursor = follower.hold().await;
                let seed = notifications::counter_seed(&self.pool, info.user_id).await?;
                follower.apply_through(&mut cursor, seed.head).await?;
                Ok(self.hub.attach(info, Some(seed)))
            }
        }
    }
}

impl Turn<'_> {
    /// Commits, then applies `events` to the hub, then ends the turn.
    /// Nothing after the commit can fail.
    ///
    /// On PostgreSQL what every instance must hear goes into the log in
    /// this transaction (notifications and removals are there already;
    /// reads become control entries), the doorbell rings at commit, and
    /// this instance's follower applies it at once; the rest (progress,
    /// revocations) is this instance's to apply.
    pub async fn commit(
        self,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        let Turn {
            mut tx,
            publisher,
            _order,
        } = self;
        let Some(follower) = &publisher.follower else {
            store::commit(tx).await?;
            events::publish(&publisher.hub, events);
            return Ok(());
        };
        let mut local = Vec::new();
        for event in events {
            match event {
                DomainEvent::Notified(_) | DomainEvent::Removed(_) => {}
                DomainEvent::NotificationsRead { user_id, read } => {
                    control::append_read(&mut tx, user_id, &read).await?
                }
                other => local.push(other),
            }
        }
        execute!(
            tx,
            "SELECT pg_notify(?, '')",
            crate::server::delivery::follower::CHANNEL
        )?;
        store::commit(tx).await?;
        events::publish(&publisher.hub, local);
        // Committed: nothing may fail the request now. The task retries.
        if let Err(e) = follower.catch_up().await {
            tracing::warn!(error = %e, "applying our own commit failed; the follower retries");
            follower.ring();
        }
        Ok(())
    }
}
