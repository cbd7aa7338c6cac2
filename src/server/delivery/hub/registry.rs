//! The registry: open streams by id, and the live users they belong to,
//! behind the hub's one lock. Everything here runs under that lock, in
//! short sections that never await.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Instant,
};

use tokio::sync::mpsc;

use super::{stats::HubCounters, ClientId, ClientInfo, Frame, Target, UserId, LINGER};
use crate::model::Role;
use crate::server::store::log::Span;

pub(super) struct ClientSlot {
    pub info: ClientInfo,
    pub tx: mpsc::Sender<Frame>,
    pub lagged: Arc<AtomicBool>,
}

/// A user with open streams (or whose last one closed less than [`LINGER`]
/// ago): their clients, and the unread counter that follows the log for
/// them (`unread.rs`) with the funnel's watermark (`funnel.rs`).
pub(super) struct LiveUser {
    pub clients: Vec<ClientId>,
    pub role: Role,
    /// The badge: unread, muted categories left out (never critical).
    pub unread: i64,
    /// Unread per category, muted ones included (no zero entries).
    pub by_category: super::unread::ByCategory,
    /// Their muted categories, as of the last position applied.
    pub muted: std::collections::HashSet<String>,
    pub read_all_up_to: i64,
    pub spans: Vec<Span>,
    /// The highest position queued to one of their clients, and the one the
    /// funnel last took (see `Hub::take_delivered`).
    pub delivered: i64,
    pub flushed: i64,
    pub linger_until: Option<Instant>,
}

impl LiveUser {
    pub fn in_target(&self, user_id: UserId, target: &Target) -> bool {
        match target {
            Target::All => true,
            Target::Role(role) => self.role == *role,
            Target::User(id) => *id == user_id,
        }
    }
}

#[derive(Default)]
pub(super) struct Registry {
    pub clients: HashMap<ClientId, ClientSlot>,
    pub users: HashMap<UserId, LiveUser>,
    /// The last log position applied.
    pub applied: i64,
    /// Funnel advances of users forgotten before the funnel took them
    /// (`Hub::evict_lingering`); the next `take_delivered` hands them over.
    pub evicted_delivered: Vec<(UserId, i64)>,
}

impl Registry {
    pub fn remove(&mut self, id: ClientId) -> bool {
        let Some(slot) = self.clients.remove(&id) else {
            return false;
        };
        if let Some(user) = self.users.get_mut(&slot.info.user_id) {
            user.clients.retain(|c| *c != id);
            if user.clients.is_empty() {
                user.linger_until = Some(Instant::now() + LINGER);
            }
        }
        true
    }

    /// Queues `frame` for every client in `ids`; returns how many got it.
    pub fn offer(
        clients: &HashMap<ClientId, ClientSlot>,
        ids: &[ClientId],
        frame: &Frame,
        counters: &HubCounters,
        closed: &mut Vec<ClientId>,
    ) -> usize {
        let mut delivered = 0;
        for id in ids {
            let Some(slot) = clients.get(id) else {
                continue;
            };
            match slot.tx.try_send(frame.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // Never a silent drop: the stream will tell its client to resync.
                    if !slot.lagged.swap(true, Ordering::AcqRel) {
                        counters.lagged_events.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => closed.push(*id),
            }
        }
        delivered
    }
}
