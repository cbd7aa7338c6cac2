//! What the subscribers, the publishers and the run share: per-message
//! instants and counters (atomics, nanoseconds since one clock), stream
//! counters, failures, and the figures computed over a range of messages.

use std::{
    ops::Range,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Mutex,
    },
    time::Instant,
};

use herald_bench::stats::Summary;

/// `answered[i]` of a publish that failed (error status, I/O, timeout).
pub const FAILED: u64 = u64::MAX;

pub struct Shared {
    pub clock: Instant,
    /// Message slots: indices `0..capacity` exist.
    pub capacity: usize,
    /// Deliveries of messages below this index record a latency (fanout: the
    /// main phase, not the ramp; storm: none).
    pub timed: usize,
    /// Next message index to publish (may run past `capacity`: clamp it).
    pub next_msg: AtomicUsize,
    /// Per message: when its publish request started (+1, so 0 = not yet).
    pub sent_at: Vec<AtomicU64>,
    /// Per message: when it was answered 200 (0 = not yet, `FAILED`).
    pub answered: Vec<AtomicU64>,
    /// Per message: the latest arrival at any subscriber (0 = none yet).
    pub last_recv: Vec<AtomicU64>,
    /// Per message: streams that received it.
    pub delivered: Vec<AtomicU32>,
    pub received: AtomicU64,
    /// Bytes read on every stream (heads, chunking and keep-alives included).
    pub bytes_read: AtomicU64,
    /// The same `bench N` title twice on one stream.
    pub duplicates: AtomicU64,
    /// Wire checks: an `id:` not above the stream's last one; offsets (or,
    /// without `ch`/`off`, ids) skipped on a stream.
    pub wire_dups: AtomicU64,
    pub wire_gaps: AtomicU64,
    /// Some frame carried `ch` and `off`.
    pub offsets_seen: AtomicBool,
    pub foreign: AtomicU64,
    pub resyncs: AtomicU64,
    pub resynced_streams: AtomicUsize,
    pub pings: AtomicU64,
    pub established: AtomicUsize,
    pub last_established: AtomicU64,
    pub failed: AtomicUsize,
    /// Streams that ended (EOF or error) after being established.
    pub dropped: AtomicUsize,
    pub failures: Mutex<Failures>,
    // The reconnect storm.
    /// Streams that closed their socket on the storm signal.
    pub closed: AtomicUsize,
    pub reconnected: AtomicUsize,
    pub last_reconnected: AtomicU64,
    pub reconnect_failed: AtomicUsize,
    pub caught_up: AtomicUsize,
    /// Notifications a reopened stream received that were published before
    /// it got its `connected` again: the replay.
    pub replayed: AtomicU64,
    pub last_caught_up: AtomicU64,
    /// Messages `0..catch_up_to` must be on a reopened stream (if owed to
    /// it) for it to count as caught up; set before the reopen signal.
    pub catch_up_to: AtomicUsize,
}

#[derive(Default)]
pub struct Failures {
    pub connect: usize,
    pub status: usize,
    pub timeout: usize,
    pub io: usize,
    /// The first few distinct messages, to print.
    pub samples: Vec<String>,
}

fn atomics<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl Shared {
    pub fn new(capacity: usize, timed: usize) -> Shared {
        Shared {
            clock: Instant::now(),
            capacity,
            timed,
            next_msg: AtomicUsize::new(0),
            sent_at: atomics(capacity),
            answered: atomics(capacity),
            last_recv: atomics(capacity),
            delivered: atomics(capacity),
            received: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            wire_dups: AtomicU64::new(0),
            wire_gaps: AtomicU64::new(0),
            offsets_seen: AtomicBool::new(false),
            foreign: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            resynced_streams: AtomicUsize::new(0),
            pings: AtomicU64::new(0),
            established: AtomicUsize::new(0),
            last_established: AtomicU64::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            failures: Mutex::default(),
            closed: AtomicUsize::new(0),
            reconnected: AtomicUsize::new(0),
            last_reconnected: AtomicU64::new(0),
            reconnect_failed: AtomicUsize::new(0),
            caught_up: AtomicUsize::new(0),
            replayed: AtomicU64::new(0),
            last_caught_up: AtomicU64::new(0),
            catch_up_to: AtomicUsize::new(0),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64 + 1
    }

    /// Messages allocated so far (some may not have been sent).
    pub fn published(&self) -> usize {
        self.next_msg.load(Ordering::Relaxed).min(self.capacity)
    }

    /// Records a stream that could not be opened (`reopening`: on the storm's
    /// second opening, counted apart).
    pub fn fail(&self, reopening: bool, kind: fn(&mut Failures) -> &mut usize, msg: String) {
        let counter = if reopening {
            &self.reconnect_failed
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        *kind(&mut f) += 1;
        if f.samples.len() < 5 && !f.samples.contains(&msg) {
            f.samples.push(msg);
        }
    }

    /// Deliveries of the messages in `range`.
    pub fn delivered_in(&self, range: Range<usize>) -> u64 {
        self.delivered[range]
            .iter()
            .map(|d| d.load(Ordering::Relaxed) as u64)
            .sum()
    }

    /// Figures over the messages in `range` (those that were sent).
    pub fn range_figures(&self, range: Range<usize>) -> RangeFigures {
        let load = |v: &[AtomicU64], i: usize| v[i].load(Ordering::Relaxed);
        let sent: Vec<usize> = range.filter(|&i| load(&self.sent_at, i) != 0).collect();
        let first_send = sent.iter().map(|&i| load(&self.sent_at, i)).min();
        let last_send = sent.iter().map(|&i| load(&self.sent_at, i)).max();
        let accepted: Vec<u64> = sent
            .iter()
            .map(|&i| load(&self.answered, i))
            .filter(|&a| a != 0 && a != FAILED)
            .collect();
        let last_answer = accepted.iter().copied().max();
        let last_delivery = sent.iter().map(|&i| load(&self.last_recv, i)).max();
        let deliveries: u64 = sent
            .iter()
            .map(|&i| self.delivered[i].load(Ordering::Relaxed) as u64)
            .sum();
        let mut last_sub_us: Vec<u32> = sent
            .iter()
            .filter_map(|&i| {
                let (s, l) = (load(&self.sent_at, i), load(&self.last_recv, i));
                (l != 0).then(|| (l.saturating_sub(s) / 1000).min(u32::MAX as u64) as u32)
            })
            .collect();
        let rate = |n: usize, from: Option<u64>, to: Option<u64>| match (from, to) {
            (Some(a), Some(b)) if n > 0 && b > a => Some(n as f64 / secs(b - a)),
            _ => None,
        };
        RangeFigures {
            sent: sent.len(),
            accepted: accepted.len(),
            // Sends are n−1 intervals apart: the offered rate, as achieved.
            send_rate: rate(sent.len().saturating_sub(1), first_send, last_send),
            accepted_per_sec: rate(accepted.len(), first_send, last_answer),
            deliveries,
            deliveries_per_sec: rate(deliveries as usize, first_send, last_delivery),
            window_s: first_send
                .zip(last_delivery)
                .map_or(0.0, |(a, b)| secs(b.saturating_sub(a))),
            last_sub: Summary::of_micros(&mut last_sub_us),
        }
    }
}

/// What a range of messages did.
pub struct RangeFigures {
    pub sent: usize,
    pub accepted: usize,
    /// (sent − 1) / (last send − first send).
    pub send_rate: Option<f64>,
    /// Accepted / (last answer − first send).
    pub accepted_per_sec: Option<f64>,
    pub deliveries: u64,
    /// Deliveries / (last delivery − first send).
    pub deliveries_per_sec: Option<f64>,
    pub window_s: f64,
    /// Per message: send → its last arrival on any stream.
    pub last_sub: Summary,
}

pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}
