//! The hub: in-memory fan-out of encoded events to open streams.
//!
//! It knows clients (one per open stream), which user and session each
//! belongs to, and targets (a client, a user's every tab, a role, everyone).
//! It does not know use cases: callers hand it a [`Target`] and a [`Frame`].
//!
//! Each client has a bounded queue. Publishing never waits: a full queue
//! marks the client as lagged (its stream then sends `resync`) instead of
//! slowing every other client down.
//!
//! Limit: a user holds at most `max_streams_per_user` clients at once; the
//! count is checked and the client added under one write lock, so
//! concurrent subscribes cannot overshoot it.

mod frame;

pub use frame::{BadEventName, EventName, Frame};

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, RwLock,
    },
};
use tokio::sync::mpsc;

use crate::model::Role;

pub type ClientId = u64;
pub type UserId = i64;

/// Who an event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Client(ClientId),
    User(UserId),
    Role(Role),
    All,
}

/// Who is on the other end of a stream.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: String,
}

struct ClientSlot {
    info: ClientInfo,
    tx: mpsc::Sender<Frame>,
    lagged: Arc<AtomicBool>,
}

#[derive(Default)]
struct Registry {
    clients: HashMap<ClientId, ClientSlot>,
    by_user: HashMap<UserId, Vec<ClientId>>,
}

impl Registry {
    fn remove(&mut self, id: ClientId) -> bool {
        let Some(slot) = self.clients.remove(&id) else {
            return false;
        };
        if let Some(ids) = self.by_user.get_mut(&slot.info.user_id) {
            ids.retain(|c| *c != id);
            if ids.is_empty() {
                self.by_user.remove(&slot.info.user_id);
            }
        }
        true
    }
}

/// Counters an operator wants; exported by `/metrics`.
#[derive(Default)]
pub struct HubCounters {
    pub streams_opened: AtomicU64,
    pub streams_closed: AtomicU64,
    /// Of the streams opened, those served straight on the socket
    /// (`sse::direct`) rather than through the router; counted there.
    pub streams_direct: AtomicU64,
    /// `writev` calls made by those streams for their frames: with
    /// `messages_sent`, how many frames a burst puts into one write.
    pub direct_writes: AtomicU64,
    pub messages_sent: AtomicU64,
    pub lagged_events: AtomicU64,
    pub publish_to_write: crate::server::metrics::LatencyHistogram,
}

struct Inner {
    registry: RwLock<Registry>,
    next_id: AtomicU64,
    queue_capacity: usize,
    max_streams_per_user: usize,
    counters: HubCounters,
}

/// A user already has as many open streams as allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyStreams {
    pub limit: usize,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// Live numbers for `/api/sse/stats`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HubStats {
    pub total_clients: usize,
    pub user_clients: BTreeMap<String, usize>,
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
            }),
        }
    }

    /// Registers a stream. Events published from now on reach it; dropping the
    /// returned [`Subscription`] unregisters it. Refused when the user
    /// already holds `max_streams_per_user` streams.
    pub fn subscribe(&self, info: ClientInfo) -> Result<Subscription, TooManyStreams> {
        let user_id = info.user_id;
        let (tx, rx) = mpsc::channel(self.inner.queue_capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let id = {
            // Count and insert under the same lock: no check-then-insert race.
            let mut reg = self.write();
            let streams = reg.by_user.entry(user_id).or_default();
            if streams.len() >= self.inner.max_streams_per_user {
                if streams.is_empty() {
                    reg.by_user.remove(&user_id);
                }
                return Err(TooManyStreams {
                    limit: self.inner.max_streams_per_user,
                });
            }
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            streams.push(id);
            reg.clients.insert(
                id,
                ClientSlot {
                    info,
                    tx,
                    lagged: lagged.clone(),
                },
            );
            id
        };
        self.inner
            .counters
            .streams_opened
            .fetch_add(1, Ordering::Relaxed);
        Ok(Subscription {
            id,
            user_id,
            rx,
            lagged,
            hub: self.clone(),
        })
    }

    /// Queues `frame` for every client in `target`; returns how many got it.
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

    fn offer(&self, target: &Target, frame: &Frame) -> usize {
        let mut delivered = 0;
        let mut closed = Vec::new();
        {
            let reg = self.read();
            let mut offer = |id: ClientId, slot: &ClientSlot| match slot.tx.try_send(frame.clone())
            {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // Never a silent drop: the stream will tell its client to resync.
                    if !slot.lagged.swap(true, Ordering::AcqRel) {
                        self.inner
                            .counters
                            .lagged_events
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => closed.push(id),
            };
            match target {
                Target::Client(id) => {
                    if let Some(slot) = reg.clients.get(id) {
                        offer(*id, slot);
                    }
                }
                Target::User(user_id) => {
                    for id in reg.by_user.get(user_id).into_iter().flatten() {
                        if let Some(slot) = reg.clients.get(id) {
                            offer(*id, slot);
                        }
                    }
                }
                Target::Role(role) => {
                    for (id, slot) in reg.clients.iter().filter(|(_, s)| s.info.role == *role) {
                        offer(*id, slot);
                    }
                }
                Target::All => {
                    for (id, slot) in reg.clients.iter() {
                        offer(*id, slot);
                    }
                }
            }
        }
        if !closed.is_empty() {
            let mut reg = self.write();
            for id in closed {
                reg.remove(id);
            }
        }
        delivered
    }

    /// Ends every stream opened with this session (logout, revocation).
    pub fn disconnect_session(&self, session_id: &str) -> usize {
        self.disconnect_where(|info| info.session_id == session_id)
    }

    /// Ends every stream of a user (deleted, or their role changed).
    pub fn disconnect_user(&self, user_id: UserId) -> usize {
        self.disconnect_where(|info| info.user_id == user_id)
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

    pub fn stats(&self) -> HubStats {
        let reg = self.read();
        HubStats {
            total_clients: reg.clients.len(),
            user_clients: reg
                .by_user
                .iter()
                .map(|(user, ids)| (user.to_string(), ids.len()))
                .collect(),
        }
    }

    pub fn active_connections(&self) -> usize {
        self.read().clients.len()
    }

    pub fn counters(&self) -> &HubCounters {
        &self.inner.counters
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
        assert_eq!(hub.publish(&Target::Client(bob.id), &frame(3)), 1);
        assert_eq!(hub.publish(&Target::All, &frame(4)), 4);

        let seqs = |s: &mut Subscription| {
            let mut out = vec![];
            while let Ok(f) = s.rx.try_recv() {
                out.push(f.seq().unwrap());
            }
            out
        };
        assert_eq!(seqs(&mut alice_tab1), [1, 4]);
        assert_eq!(seqs(&mut alice_tab2), [1, 4]);
        assert_eq!(seqs(&mut bob), [3, 4]);
        assert_eq!(seqs(&mut admin), [2, 4]);
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
            assert_eq!(fast.recv().await.unwrap().seq(), Some(n));
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
            .all(|e| e.limit == 3));
        // Another user is not affected.
        let other = hub.subscribe(ClientInfo {
            user_id: 2,
            role: Role::User,
            session_id: "other".into(),
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
        assert_eq!(s2.recv().await.unwrap().seq(), Some(1));
    }
}
