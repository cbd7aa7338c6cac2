//! The hub: in-memory fan-out of encoded events to open streams, and the
//! unread counters of the users who have them.
//!
//! It knows clients (one per open stream), which user, role and session
//! each belongs to, and targets (a user's every tab, a role, everyone). It
//! does not know use cases: callers hand it a [`Target`] and frames.
//!
//! Its parts: `registry.rs` (streams and live users, behind one lock),
//! `unread.rs` (each live user's unread counter), `funnel.rs` (the
//! delivered watermark and the eviction of lingering counters), `frame.rs`
//! (encoded events), `stats.rs` (numbers for operators).
//!
//! **Counters.** Each live user has an unread count kept here, so that a
//! broadcast to 10,000 online users costs 10,000 increments in memory
//! instead of 10,000 `COUNT`s (`unread.rs`). Nothing is stored: after a
//! restart the first stream of a user seeds it again. A counter lingers
//! [`LINGER`] after the user's last stream closes (still following the
//! log), so a reconnect storm does not pay a `COUNT` per user; then
//! `tasks::linger` evicts it.
//!
//! **Order.** Entries are applied in log order, each after its commit (by
//! the publisher, or by the follower on a cluster: `delivery::backplane`);
//! `applied` is the last position applied. A stream attaching here learns the unread count
//! and `applied` in one step, under the registry lock: what it replays
//! from the store is `(resume point, applied]`, what it receives live is
//! everything after. No gap, no duplicate.
//!
//! Each client has a bounded queue. Publishing never waits: a full queue
//! marks the client as lagged (its stream then sends `resync`) instead of
//! slowing every other client down.
//!
//! Limit: a user holds at most `max_streams_per_user` clients at once; the
//! count is checked and the client added under one write lock, so
//! concurrent subscribes cannot overshoot it.

mod frame;
mod funnel;
mod names;
mod pace;
mod registry;
mod stats;
mod unread;

pub use frame::{BadEventName, EventName, Frame, FrameTemplate};
pub use names::MAX_KNOWN as MAX_KNOWN_EVENT_NAMES;
pub use pace::PACED_FROM;
pub use stats::{HubCounters, HubStats};

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::Duration,
};
use tokio::sync::mpsc;

use crate::model::Role;
use crate::server::store::{
    log::Span,
    notifications::{CounterSeed, Counts, CountsAs},
};
use registry::{ClientSlot, LiveUser, Registry};

pub type ClientId = u64;
pub type UserId = i64;

/// How long a user's counter outlives their last stream.
pub const LINGER: Duration = Duration::from_secs(60);

/// Who an event goes to: a channel's live users (one type for the audience
/// from the store to the hub; see `model::channel`).
pub use crate::model::Channel as Target;

/// Who is on the other end of a stream.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: String,
    /// A Herald page's stream (`?page=1`): it also gets `event.names` and,
    /// for admins, `console.changed`.
    pub page_events: bool,
}

struct Inner {
    registry: RwLock<Registry>,
    next_id: AtomicU64,
    queue_capacity: usize,
    max_streams_per_user: usize,
    counters: HubCounters,
    /// The last notification's fan-out, to pace publishing by (`pace.rs`).
    last_fan_outs: pace::LastFanOuts,
    /// Custom event names the streams were told about (`names.rs`).
    event_names: std::sync::Mutex<names::KnownNames>,
    /// Something the admin console shows changed since the last pulse
    /// (`tasks::console_pulse`).
    console_changed: AtomicBool,
}

/// Why a stream could not attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// The user already has as many open streams as allowed.
    TooManyStreams { limit: usize },
    /// No live counter for this user (or one for another role): seed one.
    NeedsSeed,
}

/// A stream attached to the hub: its queue, the user's unread count and
/// the log position it holds, from which live frames follow.
pub struct Attached {
    pub subscription: Subscription,
    /// The badge and every category's count, at `applied`.
    pub counts: Counts,
    pub applied: i64,
    /// The user's spans, for the stream's replay.
    pub spans: Vec<Span>,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Hub {
    pub fn new(queue_capacity: usize, max_streams_per_user: usize) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                registry: RwLock::default(),
                next_id: AtomicU64::new(1),
                queue_capacity: queue_capacity.max(1),
                max_streams_per_user: max_streams_per_user.max(1),
                counters: HubCounters::default(),
                last_fan_outs: Default::default(),
                event_names: Default::default(),
                console_changed: AtomicBool::new(false),
            }),
        }
    }

    /// Whether the streams of a notification under `name` must first be
    /// told the name (`names.rs`); remembers it.
    pub fn learn_event_name(&self, name: &crate::model::EventName) -> bool {
        self.inner
            .event_names
            .lock()
            .map(|mut known| known.learn(name))
            .unwrap_or(true)
    }

    /// The console's history, funnel or streams changed (coalesced until
    /// the next pulse).
    pub fn console_changed(&self) {
        self.inner.console_changed.store(true, Ordering::Relaxed);
    }

    /// Whether the console changed since the last call.
    pub fn take_console_changed(&self) -> bool {
        self.inner.console_changed.swap(false, Ordering::Relaxed)
    }

    /// The custom event names known here, for `connected`.
    pub fn event_names(&self) -> Vec<String> {
        self.inner
            .event_names
            .lock()
            .map(|known| known.list())
            .unwrap_or_default()
    }

    /// At start-up: the log's head, which everything applied later follows.
    pub fn start_at(&self, position: i64) {
        self.write().applied = position;
    }

    /// A follower applied everything up to `position` (control entries
    /// included, which move no frame of their own position).
    pub fn advance_to(&self, position: i64) {
        let mut reg = self.write();
        reg.applied = reg.applied.max(position);
    }

    /// The log went back below what was applied (a restored database):
    /// every stream ends, every counter is forgotten, and the hub follows
    /// the log from `position`.
    pub fn reset_to(&self, position: i64) {
        self.disconnect_all();
        let mut reg = self.write();
        reg.users.clear();
        reg.applied = position;
    }

    /// The last log position applied.
    #[cfg(test)]
    pub fn applied(&self) -> i64 {
        self.read().applied
    }

    /// Registers a stream. With a live counter for the user (same role) it
    /// is used; otherwise `seed` starts one, or the caller is told to read
    /// one ([`AttachError::NeedsSeed`]). Refused when the user already
    /// holds `max_streams_per_user` streams. Dropping the subscription
    /// unregisters it.
    pub fn attach(
        &self,
        info: ClientInfo,
        seed: Option<CounterSeed>,
    ) -> Result<Attached, AttachError> {
        let user_id = info.user_id;
        let (tx, rx) = mpsc::channel(self.inner.queue_capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut reg = self.write();
        let applied = reg.applied;
        let reusable = reg
            .users
            .get(&user_id)
            .is_some_and(|user| user.role == info.role);
        if !reusable {
            let Some(seed) = seed else {
                return Err(AttachError::NeedsSeed);
            };
            if seed.head != applied {
                // Cannot happen while seeds are read under the publishing
                // lock; if it does, the count may be off by what lies between.
                tracing::warn!(
                    seed = seed.head,
                    applied,
                    "counter seeded off the applied position"
                );
            }
            let clients = reg
                .users
                .remove(&user_id)
                .map(|old| old.clients)
                .unwrap_or_default();
            reg.users
                .insert(user_id, LiveUser::seeded(info.role, seed, clients));
            self.inner
                .counters
                .counters_seeded
                .fetch_add(1, Ordering::Relaxed);
        } else {
            self.inner
                .counters
                .counters_reused
                .fetch_add(1, Ordering::Relaxed);
        }
        let Registry { users, clients, .. } = &mut *reg;
        let user = users.get_mut(&user_id).expect("inserted above");
        // Count and insert under the same lock: no check-then-insert race.
        if user.clients.len() >= self.inner.max_streams_per_user {
            return Err(AttachError::TooManyStreams {
                limit: self.inner.max_streams_per_user,
            });
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        user.clients.push(id);
        user.linger_until = None;
        let counts = user.counts();
        let spans = user.spans.clone();
        clients.insert(
            id,
            ClientSlot {
                info,
                tx,
                lagged: lagged.clone(),
            },
        );
        drop(reg);
        self.inner
            .counters
            .streams_opened
            .fetch_add(1, Ordering::Relaxed);
        Ok(Attached {
            subscription: Subscription {
                id,
                user_id,
                rx,
                lagged,
                hub: self.clone(),
            },
            counts,
            applied,
            spans,
        })
    }

    /// A notification entry at `position`, counting as `counts_as`: every
    /// live user in `target` counts one more unread (in its category, and
    /// in the badge unless they muted it), and each of their clients gets
    /// `frame_for(badge, category's count)` (built once per distinct pair
    /// of counts). Returns the clients reached.
    pub fn apply_notification(
        &self,
        target: &Target,
        position: i64,
        counts_as: &CountsAs,
        frame_for: impl Fn(i64, Option<i64>) -> Frame,
    ) -> usize {
        let category = counts_as.category.as_deref();
        self.apply(target, Some(position), category, frame_for, |_, user| {
            user.count_notification(counts_as);
        })
    }

    /// A removal entry at `position`, taking out the notification at
    /// `removes` in `channel`: each live user in `target` who could see it
    /// and had not read it counts one less unread. `readers` are the users
    /// who had read it one by one. Every client in `target` gets the frame
    /// (its offset keeps the channel gapless), whether or not it had the
    /// notification.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_removal(
        &self,
        target: &Target,
        channel: &Target,
        position: i64,
        removes: i64,
        readers: &[UserId],
        counts_as: &CountsAs,
        frame_for: impl Fn(i64, Option<i64>) -> Frame,
    ) -> usize {
        let readers: HashSet<UserId> = readers.iter().copied().collect();
        let category = counts_as.category.as_deref();
        self.apply(
            target,
            Some(position),
            category,
            frame_for,
            |user_id, user| {
                user.count_removal(user_id, channel, removes, &readers, counts_as);
            },
        )
    }

    /// Moves the counters of the live users in `target` (`change`) and
    /// queues each of their clients `frame_for(badge, count of category)`,
    /// built once per distinct pair. `position`: the log entry applied
    /// (none for a read).
    fn apply(
        &self,
        target: &Target,
        position: Option<i64>,
        category: Option<&str>,
        frame_for: impl Fn(i64, Option<i64>) -> Frame,
        mut change: impl FnMut(UserId, &mut LiveUser),
    ) -> usize {
        let mut reached = 0;
        let mut closed = Vec::new();
        let mut frames: HashMap<(i64, Option<i64>), Frame> = HashMap::new();
        let mut reg = self.write();
        if let Some(position) = position {
            reg.applied = reg.applied.max(position);
        }
        let Registry { users, clients, .. } = &mut *reg;
        let mut visit = |user_id: UserId, user: &mut LiveUser| {
            change(user_id, user);
            if user.clients.is_empty() {
                return;
            }
            let key = (user.unread, category.map(|c| user.category_count(c)));
            let frame = frames.entry(key).or_insert_with(|| frame_for(key.0, key.1));
            let n = Registry::offer(
                clients,
                &user.clients,
                frame,
                &self.inner.counters,
                &mut closed,
            );
            if let (true, Some(position)) = (n > 0, position) {
                user.delivered = user.delivered.max(position);
            }
            reached += n;
        };
        match target {
            Target::User(id) => {
                if let Some(user) = users.get_mut(id) {
                    visit(*id, user);
                }
            }
            _ => {
                for (id, user) in users.iter_mut() {
                    if user.in_target(*id, target) {
                        visit(*id, user);
                    }
                }
            }
        }
        for id in closed {
            reg.remove(id);
        }
        drop(reg);
        if position.is_some() {
            self.inner
                .last_fan_outs
                .remember(frames.into_values().collect(), reached);
        }
        self.inner
            .counters
            .messages_sent
            .fetch_add(reached as u64, Ordering::Relaxed);
        reached
    }

    /// The user read something: their counter takes the exact values
    /// their write transaction computed (`read_all_up_to` when they read
    /// all), and every tab of theirs gets `frame`.
    pub fn apply_read(
        &self,
        user_id: UserId,
        counts: &Counts,
        read_all_up_to: Option<i64>,
        frame: &Frame,
    ) -> usize {
        self.apply_to_user(user_id, frame, |user| {
            user.count_read(counts, read_all_up_to)
        })
    }

    /// The user changed their preferences: their counter takes the muted
    /// categories and the counts computed under them in that write's
    /// transaction, and every tab of theirs gets `frame`.
    pub fn apply_preferences(
        &self,
        user_id: UserId,
        muted: &[String],
        counts: &Counts,
        frame: &Frame,
    ) -> usize {
        self.apply_to_user(user_id, frame, |user| user.set_preferences(muted, counts))
    }

    /// A change of one user's own (no log position, no category): their
    /// counter moves (`change`) and every tab of theirs gets `frame`, the
    /// same whatever their counts.
    fn apply_to_user(
        &self,
        user_id: UserId,
        frame: &Frame,
        mut change: impl FnMut(&mut LiveUser),
    ) -> usize {
        self.apply(
            &Target::User(user_id),
            None,
            None,
            |_, _| frame.clone(),
            |_, user| change(user),
        )
    }

    /// Registers a stream with a counter from zero when the user has none
    /// (unit tests of the fan-out, which have no store).
    #[cfg(test)]
    pub fn subscribe(&self, info: ClientInfo) -> Result<Subscription, AttachError> {
        let seed = CounterSeed {
            counts: Counts::default(),
            muted: Vec::new(),
            read_all_up_to: 0,
            spans: Vec::new(),
            head: self.applied(),
        };
        self.attach(info, Some(seed)).map(|a| a.subscription)
    }

    /// Queues `frame` for every client in `target` (no counter moves: progress).
    pub fn publish(&self, target: &Target, frame: &Frame) -> usize {
        let delivered = self.offer(target, frame);
        self.inner
            .counters
            .messages_sent
            .fetch_add(delivered as u64, Ordering::Relaxed);
        delivered
    }

    /// A keep-alive to every stream; not counted as a message.
    pub fn send_keepalive(&self, frame: &Frame) -> usize {
        self.offer(&Target::All, frame)
    }

    /// A frame only pages use (`event.names`, `console.changed`) to the
    /// page streams in `target`. Rare (once per new name; a pulse a second
    /// at most), so the filtered copy of each user's client list costs
    /// nothing on the hot path (`offer`).
    pub fn publish_to_pages(&self, target: &Target, frame: &Frame) -> usize {
        let mut delivered = 0;
        let mut closed = Vec::new();
        {
            let reg = self.read();
            for (id, user) in reg.users.iter() {
                if !user.in_target(*id, target) {
                    continue;
                }
                let asked: Vec<ClientId> = user
                    .clients
                    .iter()
                    .copied()
                    .filter(|c| reg.clients.get(c).is_some_and(|s| s.info.page_events))
                    .collect();
                delivered += Registry::offer(
                    &reg.clients,
                    &asked,
                    frame,
                    &self.inner.counters,
                    &mut closed,
                );
            }
        }
        self.remove_closed(closed);
        delivered
    }

    fn offer(&self, target: &Target, frame: &Frame) -> usize {
        let mut delivered = 0;
        let mut closed = Vec::new();
        {
            let reg = self.read();
            for (id, user) in reg.users.iter() {
                if user.in_target(*id, target) {
                    delivered += Registry::offer(
                        &reg.clients,
                        &user.clients,
                        frame,
                        &self.inner.counters,
                        &mut closed,
                    );
                }
            }
        }
        self.remove_closed(closed);
        delivered
    }

    fn remove_closed(&self, closed: Vec<ClientId>) {
        if !closed.is_empty() {
            let mut reg = self.write();
            for id in closed {
                reg.remove(id);
            }
        }
    }

    /// Ends every stream opened with this session (logout, revocation).
    pub fn disconnect_session(&self, session_id: &str) -> usize {
        self.disconnect_where(|info| info.session_id == session_id)
    }

    /// Ends every stream of a user (deleted, or their role or password
    /// changed) and forgets their counter: their channels may have changed.
    pub fn disconnect_user(&self, user_id: UserId) -> usize {
        let n = self.disconnect_where(|info| info.user_id == user_id);
        self.write().users.remove(&user_id);
        n
    }

    /// Ends every stream (server shutdown).
    pub fn disconnect_all(&self) -> usize {
        self.disconnect_where(|_| true)
    }

    fn disconnect_where(&self, matches: impl Fn(&ClientInfo) -> bool) -> usize {
        let mut reg = self.write();
        let ids: Vec<ClientId> = reg
            .clients
            .iter()
            .filter(|(_, slot)| matches(&slot.info))
            .map(|(id, _)| *id)
            .collect();
        // Dropping the sender ends the stream once its queue is drained.
        ids.into_iter().filter(|id| reg.remove(*id)).count()
    }

    /// Distinct sessions with at least one open stream.
    pub fn session_ids(&self) -> Vec<String> {
        let reg = self.read();
        let ids: std::collections::BTreeSet<&String> = reg
            .clients
            .values()
            .map(|slot| &slot.info.session_id)
            .collect();
        ids.into_iter().cloned().collect()
    }

    fn unregister(&self, id: ClientId) {
        self.write().remove(id);
        self.inner
            .counters
            .streams_closed
            .fetch_add(1, Ordering::Relaxed);
    }

    // The registry is only touched by short, non-async sections, so a poisoned
    // lock can only mean a panic mid-update of two maps we keep consistent
    // ourselves; carrying on with the data is the better failure mode.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// A registered stream's receiving end.
pub struct Subscription {
    pub id: ClientId,
    pub user_id: UserId,
    rx: mpsc::Receiver<Frame>,
    lagged: Arc<AtomicBool>,
    hub: Hub,
}

impl Subscription {
    /// True once since the last call if events were dropped for this client.
    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::AcqRel)
    }

    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Frame>> {
        self.rx.poll_recv(cx)
    }

    pub async fn recv(&mut self) -> Option<Frame> {
        self.rx.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(hub: &Hub, user_id: UserId, role: Role, sid: &str) -> Subscription {
        hub.subscribe(ClientInfo {
            user_id,
            role,
            session_id: sid.into(),
            page_events: false,
        })
        .expect("under the per-user cap")
    }

    fn frame(n: i64) -> Frame {
        Frame::new(&EventName::NOTIFICATION, Some(n), &json!({"n": n}))
    }

    #[tokio::test]
    async fn targets_reach_exactly_their_clients() {
        let hub = Hub::new(8, 16);
        let mut alice_tab1 = client(&hub, 1, Role::User, "a1");
        let mut alice_tab2 = client(&hub, 1, Role::User, "a2");
        let mut bob = client(&hub, 2, Role::User, "b");
        let mut admin = client(&hub, 3, Role::Admin, "c");

        assert_eq!(hub.publish(&Target::User(1), &frame(1)), 2);
        assert_eq!(hub.publish(&Target::Role(Role::Admin), &frame(2)), 1);
        assert_eq!(hub.publish(&Target::User(2), &frame(3)), 1);
        assert_eq!(hub.publish(&Target::All, &frame(4)), 4);

        let positions = |s: &mut Subscription| {
            let mut out = vec![];
            while let Ok(f) = s.rx.try_recv() {
                out.push(f.position().unwrap());
            }
            out
        };
        assert_eq!(positions(&mut alice_tab1), [1, 4]);
        assert_eq!(positions(&mut alice_tab2), [1, 4]);
        assert_eq!(positions(&mut bob), [3, 4]);
        assert_eq!(positions(&mut admin), [2, 4]);
    }

    #[tokio::test]
    async fn stats_follow_subscribe_and_drop() {
        let hub = Hub::new(8, 16);
        let a = client(&hub, 1, Role::User, "a");
        let b = client(&hub, 1, Role::User, "b");
        let c = client(&hub, 2, Role::User, "c");
        let stats = hub.stats();
        assert_eq!(stats.total_clients, 3);
        assert_eq!(stats.user_clients.get("1"), Some(&2));
        drop(a);
        drop(c);
        let stats = hub.stats();
        assert_eq!(stats.total_clients, 1);
        assert_eq!(stats.user_clients.get("1"), Some(&1));
        assert_eq!(stats.user_clients.get("2"), None);
        drop(b);
        assert_eq!(hub.counters().streams_closed.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_client_lagged_without_blocking_others() {
        let hub = Hub::new(2, 16);
        let slow = client(&hub, 1, Role::User, "s");
        let mut fast = client(&hub, 2, Role::User, "f");
        for n in 0..5 {
            hub.publish(&Target::All, &frame(n));
            assert_eq!(fast.recv().await.unwrap().position(), Some(n));
        }
        assert!(slow.take_lagged());
        assert!(!slow.take_lagged(), "reported once");
        assert!(!fast.take_lagged());
    }

    #[test]
    fn a_user_holds_at_most_the_cap_even_when_subscribing_concurrently() {
        let hub = Hub::new(8, 3);
        let tries: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..12)
                .map(|n| {
                    let hub = &hub;
                    scope.spawn(move || {
                        hub.subscribe(ClientInfo {
                            user_id: 1,
                            role: Role::User,
                            session_id: format!("s{n}"),
                            page_events: false,
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let held: Vec<_> = tries.iter().filter(|t| t.is_ok()).collect();
        assert_eq!(held.len(), 3);
        assert_eq!(hub.stats().user_clients.get("1"), Some(&3));
        assert!(tries
            .iter()
            .filter_map(|t| t.as_ref().err())
            .all(|e| *e == AttachError::TooManyStreams { limit: 3 }));
        // Another user is not affected.
        let other = hub.subscribe(ClientInfo {
            user_id: 2,
            role: Role::User,
            session_id: "other".into(),
            page_events: false,
        });
        assert!(other.is_ok());
        drop(tries);
        assert_eq!(hub.stats().total_clients, 1);
    }

    #[tokio::test]
    async fn disconnecting_a_session_ends_only_its_streams() {
        let hub = Hub::new(8, 16);
        let mut s1 = client(&hub, 1, Role::User, "one");
        let mut s2 = client(&hub, 1, Role::User, "two");
        assert_eq!(hub.disconnect_session("one"), 1);
        assert!(s1.recv().await.is_none(), "stream ended");
        hub.publish(&Target::User(1), &frame(1));
        assert_eq!(s2.recv().await.unwrap().position(), Some(1));
    }
}
