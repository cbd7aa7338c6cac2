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

use std::future::Future;

use tokio::sync::{Mutex, MutexGuard};

use super::{
    events::{self, DomainEvent},
    hub::Hub,
    store::{self, dialect::execute, Backend, Pool, StoreError, Tx},
};

/// The advisory lock key of the publishing turn on PostgreSQL ("herald" in ASCII).
const PUBLISHING_LOCK: i64 = 0x6865_7261_6c64;

pub struct Publisher {
    pool: Pool,
    hub: Hub,
    order: Mutex<()>,
}

/// A turn to publish: the ordering lock and a write transaction. Dropped
/// without [`Turn::commit`], it rolls back and lets the next turn go.
pub struct Turn<'p> {
    pub tx: Tx,
    hub: &'p Hub,
    _order: MutexGuard<'p, ()>,
}

impl Publisher {
    pub fn new(pool: Pool, hub: Hub) -> Publisher {
        Publisher {
            pool,
            hub,
            order: Mutex::new(()),
        }
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
            hub: &self.hub,
            _order: order,
        })
    }

    /// Runs `read` while nothing is published: what it reads from the
    /// store is exactly what the hub has applied (a stream seeding its
    /// user's counter).
    pub async fn while_quiet<T>(&self, read: impl Future<Output = T>) -> T {
        let _order = self.order.lock().await;
        read.await
    }
}

impl Turn<'_> {
    /// Commits, then applies `events` to the hub, then ends the turn.
    /// Nothing after the commit can fail.
    pub async fn commit(
        self,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        let Turn { tx, hub, _order } = self;
        store::commit(tx).await?;
        events::publish(hub, events);
        Ok(())
    }
}
