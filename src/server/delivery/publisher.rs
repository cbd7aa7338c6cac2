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
//! the lock costs no concurrency the database would have allowed. On
//! PostgreSQL the backplane (`delivery::backplane`) extends the turn to the
//! cluster and every instance's follower applies the log in position order.

use tokio::sync::{Mutex, MutexGuard};

use crate::model::{ProgressEvent, UserProgress};
use crate::server::{
    delivery::{
        backplane::Backplane,
        events::DomainEvent,
        hub::{AttachError, Attached, ClientInfo, Hub},
    },
    store::{self, notifications, Pool, StoreError, Tx},
};

pub struct Publisher {
    pool: Pool,
    hub: Hub,
    order: Mutex<()>,
    /// How commits reach the hubs: this one's alone, or every instance's.
    backplane: Backplane,
}

/// A turn to publish: the ordering lock and a write transaction. Dropped
/// without [`Turn::commit`], it rolls back and lets the next turn go.
pub struct Turn<'p> {
    pub tx: Tx,
    publisher: &'p Publisher,
    _order: MutexGuard<'p, ()>,
}

impl Publisher {
    pub fn new(pool: Pool, hub: Hub, backplane: Backplane) -> Publisher {
        Publisher {
            pool,
            hub,
            order: Mutex::new(()),
            backplane,
        }
    }

    pub fn backplane(&self) -> &Backplane {
        &self.backplane
    }

    /// Waits for the turn, then begins the write transaction (on a
    /// cluster the backplane makes the turn cluster-wide).
    pub async fn begin(&self) -> Result<Turn<'_>, StoreError> {
        let order = self.order.lock().await;
        let mut tx = store::begin_write(&self.pool).await?;
        self.backplane.enter_turn(&mut tx).await?;
        Ok(Turn {
            tx,
            publisher: self,
            _order: order,
        })
    }

    /// Progress of a user's task: every tab of theirs, on every instance;
    /// unordered and lossy by design (each update supersedes the last).
    pub async fn progress(&self, user_id: i64, task_id: &str, progress: u8, status: &str) {
        let update = UserProgress {
            user_id,
            progress: ProgressEvent {
                task_id: task_id.to_string(),
                progress,
                status: status.to_string(),
            },
        };
        self.backplane.progress(&self.hub, update).await;
    }

    /// Attaches a stream with a counter seeded from the store, while
    /// nothing is applied to the hub: the count is exact at the position
    /// the hub holds (the backplane holds the hub still and brings it to
    /// the seed's snapshot).
    pub async fn attach_seeded(
        &self,
        info: ClientInfo,
    ) -> Result<Result<Attached, AttachError>, StoreError> {
        let mut hold = self.backplane.hold(&self.order).await;
        let seed = notifications::counter_seed(&self.pool, info.user_id).await?;
        self.backplane.bring_to(&mut hold, seed.head).await?;
        Ok(self.hub.attach(info, Some(seed)))
    }
}

impl Turn<'_> {
    /// Commits, then applies `events` to the hub (through the backplane),
    /// then ends the turn. Nothing after the commit can fail.
    pub async fn commit(
        self,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        let Turn {
            tx,
            publisher,
            _order,
        } = self;
        publisher.backplane.commit(tx, &publisher.hub, events).await
    }
}
