//! The global connection cap: every open connection, on either path, holds
//! a [`ConnectionPermit`] from accept until its socket is closed.
//!
//! Limit: at most `max` at once (`HERALD_MAX_CONNECTIONS`; by default the
//! open-files limit minus headroom, see `config.rs`), so that Herald answers
//! 503 while it still has file descriptors for SQLite, its logs and the
//! answer itself, instead of `accept` failing with EMFILE for everyone.

use std::sync::{
    atomic::{AtomicU64, AtomicUsize, Ordering},
    Arc,
};

/// Open connections against the cap, and how many were turned away.
pub struct Connections {
    open: AtomicUsize,
    refused: AtomicU64,
    max: usize,
}

impl Connections {
    pub fn new(max: usize) -> Arc<Connections> {
        Arc::new(Connections {
            open: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            max: max.max(1),
        })
    }

    /// A permit for one more connection, or `None` (counted as refused) at the cap.
    pub fn try_open(self: &Arc<Self>) -> Option<ConnectionPermit> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            });
        match taken {
            Ok(_) => Some(ConnectionPermit(self.clone())),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// One open connection; dropping it (with the socket) frees its place.
pub struct ConnectionPermit(Arc<Connections>);

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_stop_at_the_cap_and_come_back_when_dropped() {
        let connections = Connections::new(2);
        let a = connections.try_open().expect("first");
        let _b = connections.try_open().expect("second");
        assert!(connections.try_open().is_none());
        assert_eq!(connections.refused(), 1);
        assert_eq!(connections.open(), 2);
        drop(a);
        assert_eq!(connections.open(), 1);
        assert!(connections.try_open().is_some());
    }
}
