//! The one publishing path. Every change that must reach streams — a
//! notification, a removal, a read — is written in a turn taken here, and
//! applied to the hub right after its commit, in commit order. Use cases
//! hand the Publisher their writes and the domain events they produce; they
//! never take a lock themselves.
//!
//! Why one ordering lock around "commit, then apply": the hub's counters
//! and its `applied` position must follow the log in the order the store
//! committed it (a read's absolute count, applied before a broadcast
//! committed ahead of it, would lose that broadcast from the counter). On
//! SQLite every write transaction is serial anyway (`BEGIN IMMEDIATE`), so
//! the lock costs no concurrency the database would have allowed. On
//! PostgreSQL the backplane (`delivery::backplane`) extends the turn to the
//! cluster and every instance's follower applies the log in position order.
//!
//! **Group commit.** Turns that queue behind one another share one
//! transaction, one commit and one pass over the hub (docs/publish-path.md):
//! - the first turn begins the transaction; each later one is a savepoint
//!   in it, and sees what the turns before it wrote, as it would after
//!   their commits (a lone turn costs no round trip more than before);
//! - a turn that ends without committing (an error, a lost race, a request
//!   gone) is rolled back to its savepoint and leaves the others' writes be;
//! - a turn that commits while others wait for theirs leaves the commit to
//!   the last of them, at most [`MAX_GROUP_TURNS`] turns in a group;
//! - the group commits once, then applies every turn's events in turn
//!   order (their log positions are in that order), and every turn in it
//!   gets the one outcome: [`Turn::commit`] returns only once its writes
//!   are committed and applied, as before.
//!
//! The commit and its apply run in a task of their own, so that a request
//! that goes away cannot stop them halfway (committed but not applied).

use std::sync::{
    atomic::{AtomicU64, AtomicUsize, Ordering},
    Arc,
};

use tokio::sync::{watch, Mutex, OwnedMutexGuard};

use crate::model::{ProgressEvent, UserProgress};
use crate::server::{
    delivery::{
        backplane::Backplane,
        events::DomainEvent,
        hub::{AttachError, Attached, ClientInfo, Hub},
    },
    store::{self, dialect::execute, notifications, Pool, StoreError, Tx},
};

/// The most turns one group commits: bounds how long a group holds the
/// database's write lock and how much one commit applies.
pub const MAX_GROUP_TURNS: usize = 64;

/// The longest a turn waits for the streams to take the last fan-out:
/// streams that stopped reading hold their frames, and must not hold
/// publishing for long.
pub const PACE_LIMIT: std::time::Duration = std::time::Duration::from_millis(100);
const PACE_STEP: std::time::Duration = std::time::Duration::from_millis(1);

pub struct Publisher {
    pool: Pool,
    hub: Hub,
    group: Arc<Mutex<Group>>,
    /// Turns waiting in [`Publisher::begin`]: while there are some, a turn
    /// that has written leaves the commit to them.
    queued: AtomicUsize,
    /// How commits reach the hubs: this one's alone, or every instance's.
    backplane: Backplane,
    counts: GroupCounts,
}

/// Turns and the commits they took, for `/metrics`: their ratio is how
/// many turns a commit carried.
#[derive(Default)]
pub struct GroupCounts {
    pub turns: AtomicU64,
    pub commits: AtomicU64,
}

/// The open transaction and what its turns wrote.
struct Group {
    tx: Option<Tx>,
    /// Every committed turn's events, in turn order.
    events: Vec<DomainEvent>,
    /// Turns ended in this group, waiting for its commit.
    turns: usize,
    /// A turn ended without committing: its savepoint is still to be rolled back.
    abandoned: bool,
    /// Which group this is: a turn waiting for its group's commit knows it
    /// by number.
    number: u64,
    /// Where the group's outcome is told to its turns.
    outcome: watch::Sender<Option<Outcome>>,
}

type Outcome = Result<(), Arc<StoreError>>;

/// A turn to publish: a savepoint in the group's write transaction, with
/// the group held. Dropped without [`Turn::commit`], its writes are rolled
/// back and the next turn goes.
pub struct Turn {
    group: Option<OwnedMutexGuard<Group>>,
    publisher: Arc<Publisher>,
    /// Whether the turn has a savepoint: not when it began the transaction
    /// (a lone turn pays no extra round trip; undoing it is a rollback).
    savepoint: bool,
}

/// Counts a turn waiting for the group until it has it (or gives up).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(count: &'a AtomicUsize) -> Queued<'a> {
        count.fetch_add(1, Ordering::AcqRel);
        Queued(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Publisher {
    pub fn new(pool: Pool, hub: Hub, backplane: Backplane) -> Publisher {
        Publisher {
            pool,
            hub,
            group: Arc::new(Mutex::new(Group {
                tx: None,
                events: Vec::new(),
                turns: 0,
                abandoned: false,
                number: 0,
                outcome: watch::channel(None).0,
            })),
            queued: AtomicUsize::new(0),
            backplane,
            counts: GroupCounts::default(),
        }
    }

    pub fn backplane(&self) -> &Backplane {
        &self.backplane
    }

    pub fn counts(&self) -> &GroupCounts {
        &self.counts
    }

    /// Turns waiting for the group now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Waits for the turn, then opens its savepoint in the group's write
    /// transaction (beginning one if none is open; on a cluster the
    /// backplane makes it cluster-wide).
    pub async fn begin(self: &Arc<Self>) -> Result<Turn, StoreError> {
        self.pace().await;
        let queued = Queued::enter(&self.queued);
        let mut group = self.group.clone().lock_owned().await;
        drop(queued);
        match self.open(&mut group).await {
            Ok(savepoint) => Ok(Turn {
                group: Some(group),
                publisher: self.clone(),
                savepoint,
            }),
            Err(e) => {
                if group.turns == 0 {
                    // Nobody else wrote in it: start afresh next time.
                    group.tx = None;
                    group.abandoned = false;
                }
                Err(e)
            }
        }
    }

    /// Waits, at most [`PACE_LIMIT`], while most streams have not yet taken
    /// the last fan-out (`hub/pace.rs`): the control path runs ahead of the
    /// streams (it has their CPU priority, `net::stream_workers`), and
    /// without this a flood of publishes would overflow their queues. Turns
    /// that wait here join the next group together.
    async fn pace(&self) {
        let until = tokio::time::Instant::now() + PACE_LIMIT;
        while self.hub.fan_out_behind() && tokio::time::Instant::now() < until {
            tokio::time::sleep(PACE_STEP).await;
        }
    }

    /// Opens the turn: a savepoint in the open transaction (`true`), or a
    /// new transaction.
    async fn open(&self, group: &mut Group) -> Result<bool, StoreError> {
        if group.abandoned {
            let tx = group
                .tx
                .as_mut()
                .expect("an abandoned turn leaves its transaction");
            roll_back_turn(tx).await?;
            group.abandoned = false;
        }
        match &mut group.tx {
            Some(tx) => {
                execute!(tx, "SAVEPOINT turn")?;
                Ok(true)
            }
            None => {
                let mut tx = store::begin_write(&self.pool).await?;
                self.backplane.enter_turn(&mut tx).await?;
                group.tx = Some(tx);
                Ok(false)
            }
        }
    }

    /// Waits until the group `number` is committed and applied; commits it
    /// if, once the group is ours, it still is not (the turn that was to
    /// commit it went away).
    async fn outcome_of(
        self: &Arc<Self>,
        number: u64,
        mut outcome: watch::Receiver<Option<Outcome>>,
    ) -> Result<(), StoreError> {
        let group = tokio::select! {
            biased;
            told = outcome.wait_for(Option::is_some) => {
                return told_outcome(told.map(|v| v.clone()));
            }
            group = self.group.clone().lock_owned() => group,
        };
        if group.number == number {
            return self.clone().commit_group(group).await;
        }
        // Committed meanwhile: the outcome is there.
        drop(group);
        told_outcome(outcome.wait_for(Option::is_some).await.map(|v| v.clone()))
    }

    /// Commits the group and applies its events, in a task of its own (it
    /// must finish once begun), and tells its turns.
    async fn commit_group(
        self: Arc<Self>,
        mut group: OwnedMutexGuard<Group>,
    ) -> Result<(), StoreError> {
        let task = tokio::spawn(async move {
            let outcome = self.finish(&mut group).await.map_err(Arc::new);
            let told = std::mem::replace(&mut group.outcome, watch::channel(None).0);
            told.send_replace(Some(outcome.clone()));
            outcome
        });
        match task.await {
            Ok(outcome) => outcome.map_err(StoreError::Group),
            Err(e) => Err(StoreError::Io(std::io::Error::other(e))),
        }
    }

    async fn finish(&self, group: &mut Group) -> Result<(), StoreError> {
        group.number += 1;
        let events = std::mem::take(&mut group.events);
        let turns = std::mem::take(&mut group.turns);
        let abandoned = std::mem::take(&mut group.abandoned);
        let Some(mut tx) = group.tx.take() else {
            return Err(StoreError::Io(std::io::Error::other(
                "a group without its transaction",
            )));
        };
        if abandoned {
            roll_back_turn(&mut tx).await?;
        }
        self.backplane.commit(tx, &self.hub, events).await?;
        self.counts.turns.fetch_add(turns as u64, Ordering::Relaxed);
        self.counts.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
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
    /// the seed's snapshot). A group's uncommitted writes are neither in
    /// the seed nor in the hub.
    pub async fn attach_seeded(
        &self,
        info: ClientInfo,
    ) -> Result<Result<Attached, AttachError>, StoreError> {
        let mut hold = self.backplane.hold(self.group.lock()).await;
        let seed = notifications::counter_seed(&self.pool, info.user_id).await?;
        self.backplane.bring_to(&mut hold, seed.head).await?;
        Ok(self.hub.attach(info, Some(seed)))
    }
}

fn told_outcome(told: Result<Option<Outcome>, watch::error::RecvError>) -> Result<(), StoreError> {
    match told {
        Ok(Some(outcome)) => outcome.map_err(StoreError::Group),
        // The committing task ended without a word: it panicked.
        Ok(None) | Err(_) => Err(StoreError::Io(std::io::Error::other(
            "the group commit ended without an outcome",
        ))),
    }
}

/// Undoes what the turn wrote since its savepoint, and the savepoint.
async fn roll_back_turn(tx: &mut Tx) -> Result<(), StoreError> {
    execute!(tx, "ROLLBACK TO SAVEPOINT turn")?;
    execute!(tx, "RELEASE SAVEPOINT turn")?;
    Ok(())
}

impl Turn {
    /// The group's transaction, at this turn's savepoint.
    pub fn tx(&mut self) -> &mut Tx {
        self.group
            .as_mut()
            .and_then(|group| group.tx.as_mut())
            .expect("a turn holds the open transaction")
    }

    /// Keeps this turn's writes and returns once they are committed and
    /// `events` applied to the hub (through the backplane), with those of
    /// the turns grouped with it. Nothing after the commit can fail.
    pub async fn commit(
        mut self,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        if self.savepoint {
            execute!(self.tx(), "RELEASE SAVEPOINT turn")?;
        }
        self.end(events).await
    }

    /// Undoes this turn's writes, and returns once the turns before it in
    /// its group are committed: what they wrote can then be read from the
    /// pool (the winner of an `Idempotency-Key` race, say).
    pub async fn roll_back(mut self) -> Result<(), StoreError> {
        if !self.savepoint {
            // First in its transaction: nothing before it to wait for (the
            // last group committed before this one began); dropping rolls back.
            drop(self);
            return Ok(());
        }
        roll_back_turn(self.tx()).await?;
        self.end([]).await
    }

    async fn end(
        mut self,
        events: impl IntoIterator<Item = DomainEvent>,
    ) -> Result<(), StoreError> {
        let mut group = self.group.take().expect("a turn ends once");
        let publisher = self.publisher.clone();
        group.events.extend(events);
        group.turns += 1;
        if group.turns < MAX_GROUP_TURNS && publisher.queued.load(Ordering::Acquire) > 0 {
            // Others are waiting to write: they join this transaction, and
            // the last of them commits it for everyone.
            let number = group.number;
            let outcome = group.outcome.subscribe();
            drop(group);
            return publisher.outcome_of(number, outcome).await;
        }
        publisher.commit_group(group).await
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some(mut group) = self.group.take() else {
            return;
        };
        if !self.savepoint {
            // First in its transaction, so alone in it: dropping it rolls
            // everything back and frees the database's write lock at once.
            debug_assert_eq!(group.turns, 0);
            group.tx = None;
        } else {
            // Others wrote before it and wait for the commit: only this
            // turn's savepoint goes, by whoever takes the group next.
            group.abandoned = true;
        }
    }
}
