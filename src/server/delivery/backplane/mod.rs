//! The backplane: how a change committed by one instance reaches the streams
//! of every instance. Chosen once at start-up from `DATABASE_URL`; nothing
//! above it (use cases, tasks, handlers) asks which backend it runs on.
//!
//! - [`Backplane::InProcess`] (SQLite, one process): the publisher applies
//!   its own commits to the hub, in commit order, under its ordering lock.
//! - [`Backplane::Log`] (PostgreSQL, any number of instances): a publishing
//!   turn is cluster-wide (an advisory lock held until commit); what every
//!   instance must hear goes into the shared log in the turn's transaction;
//!   each instance's [`Follower`] applies the log to its hub in position
//!   order (its own commits included); progress travels by `pg_notify`; a
//!   heartbeat tells the others how many streams this instance holds.

mod follower;
mod heartbeat;

use std::{collections::BTreeMap, future::Future, sync::Arc};

use tokio::sync::MutexGuard;

pub use follower::Follower;

use crate::model::UserProgress;
use crate::server::{
    delivery::{
        events::{self, DomainEvent},
        hub::Hub,
    },
    store::{self, control, dialect::execute, instances, Backend, Pool, StoreError, Tx},
};

/// The advisory lock key of the publishing turn on PostgreSQL ("herald" in ASCII).
const PUBLISHING_LOCK: i64 = 0x6865_7261_6c64;

pub enum Backplane {
    InProcess,
    Log(Arc<SharedLog>),
}

/// The PostgreSQL backplane's parts.
pub struct SharedLog {
    follower: Arc<Follower>,
    pool: Pool,
    hub: Hub,
    /// This process among the cluster's instances.
    instance_id: Arc<str>,
}

/// What keeps the hub still while a stream's counter is seeded: the
/// publisher's ordering lock in one process (every apply happens under it),
/// the follower's cursor on the log.
pub enum Hold<'a, G> {
    Order(G),
    Cursor(MutexGuard<'a, i64>),
}

impl Backplane {
    /// The backplane for `pool`'s backend. The hub starts at the log's
    /// head: what is already there is replayed by the streams that ask.
    pub async fn start(
        pool: &Pool,
        hub: &Hub,
        instance_id: Arc<str>,
    ) -> Result<Backplane, StoreError> {
        let head = follower::head(pool).await?;
        hub.start_at(head);
        let names = crate::server::store::announcements::custom_event_names(
            pool,
            crate::server::delivery::hub::MAX_KNOWN_EVENT_NAMES,
        )
        .await?;
        for name in &names {
            hub.learn_event_name(name);
        }
        Ok(match pool.backend() {
            Backend::Sqlite => Backplane::InProcess,
            Backend::Postgres => Backplane::Log(Arc::new(SharedLog {
                follower: Arc::new(Follower::new(pool.clone(), hub.clone(), head)),
                pool: pool.clone(),
                hub: hub.clone(),
                instance_id,
            })),
        })
    }

    /// Its background work: on PostgreSQL the follower's task (listening
    /// on a connection of its own to `database_url`) and the heartbeat.
    pub fn spawn(&self, database_url: &str) {
        if let Backplane::Log(log) = self {
            log.follower.clone().spawn(database_url.to_string());
            heartbeat::spawn(log.clone());
        }
    }

    /// The follower, for tests that hold it to make a window observable.
    pub fn follower(&self) -> Option<&Arc<Follower>> {
        match self {
            Backplane::InProcess => None,
            Backplane::Log(log) => Some(&log.follower),
        }
    }

    /// Called at the start of a publishing turn's transaction. On
    /// PostgreSQL the turn is cluster-wide: a transaction-level advisory
    /// lock, held until commit, so that log positions (allocated inside the
    /// turn) follow commit order across instances. PostgreSQL makes a
    /// commit visible before it releases the transaction's locks, so the
    /// next turn's position is allocated only once the last is visible.
    pub async fn enter_turn(&self, tx: &mut Tx) -> Result<(), StoreError> {
        if let Backplane::Log(_) = self {
            execute!(tx, "SELECT pg_advisory_xact_lock(?)", PUBLISHING_LOCK)?;
        }
        Ok(())
    }

    /// Commits a turn's transaction and applies its `events` to `hub`.
    /// Nothing after the commit can fail.
    ///
    /// On PostgreSQL what every instance must hear goes into the log in
    /// this transaction (notifications and removals are there already;
    /// reads become control entries), the doorbell rings at commit, and
    /// this instance's follower applies it at once; the rest (progress,
    /// revocations) is this instance's to apply.
    pub async fn commit(
        &self,
        mut tx: Tx,
        hub: &Hub,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        let Backplane::Log(log) = self else {
            store::commit(tx).await?;
            events::publish(hub, events);
            return Ok(());
        };
        let mut local = Vec::new();
        for event in events {
            match event {
                DomainEvent::Notified(_) | DomainEvent::Removed(_) => {}
                DomainEvent::NotificationsRead { user_id, read } => {
                    control::append_read(&mut tx, user_id, &read).await?
                }
                DomainEvent::PreferencesChanged {
                    user_id,
                    preferences,
                } => control::append_preferences(&mut tx, user_id, &preferences).await?,
                other => local.push(other),
            }
        }
        execute!(tx, "SELECT pg_notify(?, '')", follower::CHANNEL)?;
        store::commit(tx).await?;
        events::publish(hub, local);
        // Committed: nothing may fail the request now. The task retries.
        if let Err(e) = log.follower.catch_up().await {
            tracing::warn!(error = %e, "applying our own commit failed; the follower retries");
            log.follower.ring();
        }
        Ok(())
    }

    /// Progress of a user's task: every tab of theirs, on every instance.
    /// Unordered and lossy by design (each update supersedes the last; the
    /// end of a task is a durable notification): on PostgreSQL a
    /// `pg_notify` that every instance's follower hears, this one included.
    pub async fn progress(&self, hub: &Hub, update: UserProgress) {
        let Backplane::Log(log) = self else {
            events::publish(hub, [DomainEvent::Progress(update)]);
            return;
        };
        // Read back by `Follower::progress`, as the same type.
        let payload = serde_json::to_string(&update).unwrap_or_default();
        let sent = async {
            let mut conn = log.pool.acquire().await?;
            execute!(
                conn,
                "SELECT pg_notify(?, ?)",
                follower::PROGRESS_CHANNEL,
                payload
            )?;
            Ok::<_, StoreError>(())
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %e, "progress not sent");
        }
    }

    /// Keeps the hub still (see [`Hold`]) until the guard drops; `order`
    /// takes the publisher's ordering lock, when that is what holds it.
    pub async fn hold<G>(&self, order: impl Future<Output = G>) -> Hold<'_, G> {
        match self {
            Backplane::InProcess => Hold::Order(order.await),
            Backplane::Log(log) => Hold::Cursor(log.follower.hold().await),
        }
    }

    /// Brings a held hub exactly to `position` (a snapshot's head): on the
    /// log the follower applies what lies between; in one process the hub
    /// is there already (every commit was applied under the held lock).
    pub async fn bring_to<G>(
        &self,
        hold: &mut Hold<'_, G>,
        position: i64,
    ) -> Result<(), StoreError> {
        match (self, hold) {
            (Backplane::Log(log), Hold::Cursor(cursor)) => {
                log.follower.apply_through(cursor, position).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Streams open on the other instances, per user and in total, from
    /// their heartbeats (none in one process).
    pub async fn elsewhere(&self) -> Result<(i64, BTreeMap<String, usize>), StoreError> {
        match self {
            Backplane::InProcess => Ok((0, BTreeMap::new())),
            Backplane::Log(log) => instances::others(&log.pool, &log.instance_id).await,
        }
    }

    /// Drops what only followers need once they have read it (control
    /// entries older than an hour); nothing in one process.
    pub async fn prune(&self, pool: &Pool) -> Result<u64, StoreError> {
        match self {
            Backplane::InProcess => Ok(0),
            Backplane::Log(_) => {
                // Followers read control entries within seconds; an hour is
                // a wide margin.
                let before = store::now_ms() - 3_600_000;
                control::prune(pool, before).await
            }
        }
    }
}
