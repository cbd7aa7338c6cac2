//! What the hub tells an operator: counters for `/metrics` and live
//! numbers for `/api/sse/stats`.

use std::sync::atomic::AtomicU64;

use super::Hub;

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
    /// Counters seeded from the store (a user's first stream) and reused
    /// (another tab, or a reconnect while the counter lingered).
    pub counters_seeded: AtomicU64,
    pub counters_reused: AtomicU64,
    pub publish_to_write: crate::server::delivery::latency::LatencyHistogram,
}

/// Live numbers for `/api/sse/stats` (the body's own type, in the model).
pub use crate::model::StreamStats as HubStats;

impl Hub {
    pub fn stats(&self) -> HubStats {
        let reg = self.read();
        HubStats {
            total_clients: reg.clients.len(),
            user_clients: reg
                .users
                .iter()
                .filter(|(_, user)| !user.clients.is_empty())
                .map(|(user, u)| (user.to_string(), u.clients.len()))
                .collect(),
        }
    }

    pub fn active_connections(&self) -> usize {
        self.read().clients.len()
    }

    /// Users with a counter in memory (online or lingering).
    pub fn live_users(&self) -> usize {
        self.read().users.len()
    }

    pub fn counters(&self) -> &HubCounters {
        &self.inner.counters
    }
}
