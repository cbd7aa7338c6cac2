//! One SSE subscriber: opens its stream, reads and checks every event until
//! told to stop; in the storm it closes its socket on the signal and
//! reopens with `Last-Event-ID: <last id: seen>`.
//!
//! Two checks run on every stream, each independent of the other:
//! - by title (`bench N`, the publisher's own numbering): every message
//!   whose publish started after the stream's first `connected` and was
//!   answered 200 must arrive once (lost / duplicates);
//! - on the wire: `id:` must increase (else a duplicate id), and `off` must
//!   be consecutive per `ch` (without `ch`/`off`, today's per-user
//!   consecutive ids are checked instead): skipped ones are gaps.

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use herald_bench::wire::{self, Dechunker, SseEvent};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
};

use crate::{
    shared::{Shared, FAILED},
    Target,
};

/// Big enough for a Herald notification frame (~300 B) in one read, small
/// enough that 10,000 of them stay a few tens of MB.
const READ_BUF: usize = 2048;

/// What every stream is told to do, by the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Run,
    /// The storm: close the socket now.
    Close,
    /// Reopen, resuming from the last id.
    Reopen,
    Stop,
}

/// What a subscriber knows up front.
pub struct SubConfig {
    pub target: Target,
    /// Stream `k` opens on `servers[k % n]` (the instances of a cluster).
    pub servers: Vec<SocketAddr>,
    pub source_ips: u8,
    pub tokens: Vec<String>,
    pub connect_timeout: Duration,
}

/// A subscriber's account, once the run stops.
#[derive(Default)]
pub struct SubResult {
    pub latencies_us: Vec<u32>,
    /// Messages this stream had to receive, and those it did not (streams
    /// that got `resync` are counted apart: they would refetch).
    pub owed: u64,
    pub lost: u64,
    pub lost_after_resync: u64,
}

/// Per-stream state, across its openings.
struct Sub {
    replays: bool,
    /// Held until the stream is established, so at most so many
    /// connections are being set up at once.
    permit: Option<OwnedSemaphorePermit>,
    /// This opening got its `connected` (baseline: its response head).
    established: bool,
    /// In its second opening (the storm's reopen).
    reopened: bool,
    /// When the first opening was established (0 = never).
    first_connected: u64,
    /// When the reopened stream was established (0 = not yet).
    reconnected_at: u64,
    /// Bit per message index: which ones this stream already got.
    seen: Vec<u64>,
    latencies_us: Vec<u32>,
    last_id: Option<u64>,
    /// The last `id:` when it was not a number (sent back as is).
    last_id_text: Option<String>,
    /// Last `off` per `ch`.
    offs: Vec<(String, u64)>,
    resynced: bool,
    caught_up: bool,
    /// Messages below this index are on the stream or not owed to it.
    cursor: usize,
}

impl Sub {
    /// A stream not yet opened; `permit` is its place in the opening gate.
    fn new(shared: &Shared, replays: bool, permit: Option<OwnedSemaphorePermit>) -> Sub {
        Sub {
            replays,
            permit,
            established: false,
            reopened: false,
            first_connected: 0,
            reconnected_at: 0,
            seen: vec![0; shared.capacity.div_ceil(64)],
            latencies_us: Vec::with_capacity(shared.timed.min(4096)),
            last_id: None,
            last_id_text: None,
            offs: Vec::new(),
            resynced: false,
            caught_up: false,
            cursor: 0,
        }
    }

    /// Closed by the storm and about to reopen: the next `connected` is a
    /// reconnection, measured as such.
    fn reopening(&mut self) {
        self.reopened = true;
        self.established = false;
    }

    fn has(&self, i: usize) -> bool {
        self.seen[i / 64] & (1 << (i % 64)) != 0
    }

    /// Must this stream receive message `i`? Its publish started after the
    /// stream was first established (so the server had it attached) and was
    /// accepted.
    fn owed(&self, shared: &Shared, i: usize) -> bool {
        let sent = shared.sent_at[i].load(Ordering::Acquire);
        let answered = shared.answered[i].load(Ordering::Acquire);
        self.first_connected != 0
            && sent > self.first_connected
            && answered != 0
            && answered != FAILED
    }

    fn on_established(&mut self, shared: &Shared) {
        if self.established {
            return;
        }
        self.established = true;
        self.permit = None;
        let now = shared.now_ns();
        if self.reopened {
            self.reconnected_at = now;
            shared.reconnected.fetch_add(1, Ordering::Relaxed);
            shared.last_reconnected.fetch_max(now, Ordering::Relaxed);
            if self.replays {
                self.advance(shared, now);
            } else {
                // Nothing to replay: reopened is all the baseline can do.
                self.mark_caught_up(shared, now);
            }
        } else {
            self.first_connected = now;
            shared.established.fetch_add(1, Ordering::Relaxed);
            shared.last_established.fetch_max(now, Ordering::Relaxed);
        }
    }

    fn mark_caught_up(&mut self, shared: &Shared, now: u64) {
        if !self.caught_up {
            self.caught_up = true;
            shared.caught_up.fetch_add(1, Ordering::Relaxed);
            shared.last_caught_up.fetch_max(now, Ordering::Relaxed);
        }
    }

    /// After the reopen: caught up once every message owed to it below
    /// `catch_up_to` is on the stream.
    fn advance(&mut self, shared: &Shared, now: u64) {
        if !self.reopened || !self.established || self.caught_up {
            return;
        }
        let to = shared.catch_up_to.load(Ordering::Acquire);
        while self.cursor < to && (self.has(self.cursor) || !self.owed(shared, self.cursor)) {
            self.cursor += 1;
        }
        if self.cursor >= to {
            self.mark_caught_up(shared, now);
        }
    }

    fn on_event(&mut self, shared: &Shared, ev: SseEvent<'_>) {
        match ev.event {
            "connected" => self.on_established(shared),
            "resync" => {
                shared.resyncs.fetch_add(1, Ordering::Relaxed);
                if !self.resynced {
                    self.resynced = true;
                    shared.resynced_streams.fetch_add(1, Ordering::Relaxed);
                }
                // The stream goes on from "now": no gap to report after it.
                self.last_id = None;
                self.offs.clear();
                if self.reopened && self.established {
                    self.mark_caught_up(shared, shared.now_ns());
                }
            }
            "ping" => {
                shared.pings.fetch_add(1, Ordering::Relaxed);
            }
            // Keep-alive comments; nothing else is published in a run.
            "" => {}
            _ => self.on_notification(shared, ev),
        }
    }

    fn on_notification(&mut self, shared: &Shared, ev: SseEvent<'_>) {
        let now = shared.now_ns();
        let frame = wire::bench_frame(&ev.data);
        let offset = frame
            .as_ref()
            .and_then(|f| Some((f.ch.as_deref()?, f.off?)));
        if let Some(id) = ev.id {
            match id.trim().parse::<u64>() {
                Ok(n) => {
                    if let Some(prev) = self.last_id {
                        if n <= prev {
                            shared.wire_dups.fetch_add(1, Ordering::Relaxed);
                        } else if offset.is_none() && n != prev + 1 {
                            shared.wire_gaps.fetch_add(n - prev - 1, Ordering::Relaxed);
                        }
                    }
                    self.last_id = Some(self.last_id.map_or(n, |p| p.max(n)));
                }
                Err(_) => self.last_id_text = Some(id.to_string()),
            }
        }
        if let Some((ch, off)) = offset {
            shared.offsets_seen.store(true, Ordering::Relaxed);
            match self.offs.iter_mut().find(|(c, _)| c == ch) {
                Some((_, last)) => {
                    if off > *last + 1 {
                        shared
                            .wire_gaps
                            .fetch_add(off - *last - 1, Ordering::Relaxed);
                    }
                    *last = (*last).max(off);
                }
                None => self.offs.push((ch.to_string(), off)),
            }
        }

        let Some(idx) = frame.and_then(|f| f.index).filter(|i| *i < shared.capacity) else {
            shared.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (word, bit) = (idx / 64, 1u64 << (idx % 64));
        if self.seen[word] & bit != 0 {
            shared.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.seen[word] |= bit;
        shared.received.fetch_add(1, Ordering::Relaxed);
        shared.delivered[idx].fetch_add(1, Ordering::Relaxed);
        shared.last_recv[idx].fetch_max(now, Ordering::Relaxed);
        // The publisher stores the send instant before it writes the
        // request, so it is set by the time the event arrives.
        let sent = shared.sent_at[idx].load(Ordering::Acquire);
        if self.reconnected_at != 0 && sent < self.reconnected_at {
            shared.replayed.fetch_add(1, Ordering::Relaxed);
        }
        if idx < shared.timed && sent != 0 {
            let us = now.saturating_sub(sent) / 1000;
            self.latencies_us.push(us.min(u32::MAX as u64) as u32);
        }
        self.advance(shared, now);
    }

    /// The `Last-Event-ID` to resume with.
    fn resume_id(&self) -> Option<String> {
        self.last_id
            .map(|n| n.to_string())
            .or_else(|| self.last_id_text.clone())
    }

    fn result(self, shared: &Shared) -> SubResult {
        let mut r = SubResult::default();
        for i in 0..shared.published() {
            if self.owed(shared, i) {
                r.owed += 1;
                if !self.has(i) {
                    if self.resynced {
                        r.lost_after_resync += 1;
                    } else {
                        r.lost += 1;
                    }
                }
            }
        }
        r.latencies_us = self.latencies_us;
        r
    }
}

impl SubConfig {
    /// The server stream `index` opens on (and reopens on, in the storm).
    fn server(&self, index: usize) -> SocketAddr {
        self.servers[index % self.servers.len()]
    }
}

async fn connect(cfg: &SubConfig, index: usize) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    // Many source addresses keep us far from the ~28k ephemeral ports one
    // (source IP, destination) pair allows.
    let octet = 1 + (index % cfg.source_ips as usize) as u8;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::new(127, 0, 0, octet),
        0,
    )))?;
    let stream = socket.connect(cfg.server(index)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// How one opening of a stream ended.
enum End {
    Stop,
    /// Closed on the storm signal.
    Storm,
    /// Failed to open, or ended by the server.
    Over,
}

/// One SSE subscriber, from its first connect until the run stops.
pub async fn subscriber(
    index: usize,
    cfg: Arc<SubConfig>,
    shared: Arc<Shared>,
    gate: Arc<Semaphore>,
    reconnect_gate: Option<Arc<Semaphore>>,
    mut phase: watch::Receiver<Phase>,
) -> SubResult {
    let permit = gate.acquire_owned().await.ok();
    let mut sub = Sub::new(&shared, cfg.target == Target::Herald, permit);
    let mut end = open(&mut sub, index, &cfg, &shared, &mut phase).await;
    if matches!(end, End::Storm) {
        shared.closed.fetch_add(1, Ordering::Relaxed);
        let next = phase
            .wait_for(|p| matches!(p, Phase::Reopen | Phase::Stop))
            .await
            .map(|p| *p);
        end = End::Stop;
        if let Ok(Phase::Reopen) = next {
            sub.reopening();
            sub.permit = match &reconnect_gate {
                Some(g) => g.clone().acquire_owned().await.ok(),
                None => None,
            };
            end = open(&mut sub, index, &cfg, &shared, &mut phase).await;
        }
    }
    if !matches!(end, End::Stop) {
        // Check it with everything that was published, at the end.
        let _ = phase.wait_for(|p| *p == Phase::Stop).await;
    }
    sub.result(&shared)
}

/// Opens the stream (resuming after the storm) and reads it until the
/// phase says otherwise or it ends.
async fn open(
    sub: &mut Sub,
    index: usize,
    cfg: &SubConfig,
    shared: &Shared,
    phase: &mut watch::Receiver<Phase>,
) -> End {
    let reopening = sub.reopened;
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
    let mut stream = match tokio::time::timeout_at(deadline, connect(cfg, index)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            shared.fail(reopening, |f| &mut f.connect, format!("connect: {e}"));
            return End::Over;
        }
        Err(_) => {
            shared.fail(reopening, |f| &mut f.timeout, "timed out connecting".into());
            return End::Over;
        }
    };
    let resume = if sub.reopened {
        sub.resume_id()
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let request = match cfg.target {
        Target::Herald => format!(
            "GET /sse/stream HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nAuthorization: Bearer {}\r\n{resume}\r\n",
            cfg.server(index),
            cfg.tokens[index % cfg.tokens.len()]
        ),
        Target::Baseline => format!(
            "GET /sse HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n{resume}\r\n",
            cfg.server(index)
        ),
    };
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        shared.fail(reopening, |f| &mut f.io, format!("sending request: {e}"));
        return End::Over;
    }
    drop(request);

    // `raw` holds bytes as read; `events` the de-chunked SSE text.
    let mut raw: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut events: Vec<u8> = Vec::new();
    let mut head_done = false;
    let mut dechunk: Option<Dechunker> = None;

    // Ends an established opening the server closed, or fails one that never was.
    let ended = |sub: &Sub, why: String| {
        if sub.established {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.fail(reopening, |f| &mut f.io, why);
        }
        End::Over
    };

    loop {
        // Read more, unless told otherwise or the setup deadline passes.
        let start = raw.len();
        raw.resize(start + READ_BUF, 0);
        let read = tokio::select! {
            r = stream.read(&mut raw[start..]) => r,
            changed = phase.changed() => {
                raw.truncate(start);
                match changed.map(|_| *phase.borrow_and_update()) {
                    Ok(Phase::Close) => return End::Storm,
                    Ok(Phase::Stop) | Err(_) => return End::Stop,
                    Ok(_) => continue,
                }
            }
            _ = tokio::time::sleep_until(deadline), if !sub.established => {
                shared.fail(reopening, |f| &mut f.timeout, "timed out waiting to be established".into());
                return End::Over;
            }
        };
        let n = match read {
            Ok(0) => return ended(sub, "connection closed before established".into()),
            Err(e) => return ended(sub, format!("reading: {e}")),
            Ok(n) => n,
        };
        shared.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        raw.truncate(start + n);

        if !head_done {
            match wire::parse_head(&raw) {
                Ok(None) => continue,
                Ok(Some(head)) if head.status != 200 => {
                    shared.fail(
                        reopening,
                        |f| &mut f.status,
                        format!("HTTP {}", head.status),
                    );
                    return End::Over;
                }
                Ok(Some(head)) => {
                    head_done = true;
                    raw.drain(..head.len);
                    dechunk = head.chunked.then(Dechunker::default);
                    // The baseline sends nothing until the first message:
                    // its stream is open once the headers are in.
                    if cfg.target == Target::Baseline {
                        sub.on_established(shared);
                    }
                }
                Err(e) => {
                    shared.fail(reopening, |f| &mut f.io, format!("bad response: {e}"));
                    return End::Over;
                }
            }
        }

        match dechunk.as_mut() {
            Some(d) => match d.decode(&raw, &mut events) {
                Ok(used) => {
                    raw.drain(..used);
                }
                Err(e) => return ended(sub, format!("bad chunking: {e}")),
            },
            None => events.append(&mut raw),
        }

        let mut used = 0;
        while let Some((block, len)) = wire::next_block(&events[used..]) {
            sub.on_event(shared, wire::parse_event(block));
            used += len;
        }
        events.drain(..used);

        if dechunk.as_ref().is_some_and(Dechunker::is_done) {
            return ended(sub, "stream ended before established".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// Message `i` was sent now and answered 200.
    fn publish(shared: &Shared, i: usize) {
        shared.sent_at[i].store(shared.now_ns(), Ordering::Release);
        shared.answered[i].store(shared.now_ns(), Ordering::Release);
        shared.next_msg.fetch_max(i + 1, Ordering::Relaxed);
    }

    fn event<'a>(name: &'a str, id: Option<&'a str>, data: String) -> SseEvent<'a> {
        SseEvent {
            event: name,
            id,
            data: Cow::Owned(data),
        }
    }

    fn frame(i: usize, off: u64) -> String {
        format!(
            r#"{{"notification":{{"id":{p},"title":"bench {i}"}},"ch":"all","off":{off},"unread":1}}"#,
            p = 100 + i
        )
    }

    fn connect(sub: &mut Sub, shared: &Shared) {
        sub.on_event(shared, event("connected", None, r#"{"unread":0}"#.into()));
        // Publishes that start later are owed to the stream.
        std::thread::sleep(Duration::from_millis(1));
    }

    /// The storm: the stream was closed, messages `..caught_up_at` were
    /// answered before the reopen, and it is `connected` again.
    fn reopen(sub: &mut Sub, shared: &Shared, caught_up_at: usize) {
        shared.catch_up_to.store(caught_up_at, Ordering::Release);
        sub.reopening();
        sub.on_event(shared, event("connected", None, "{}".into()));
    }

    #[test]
    fn a_missing_owed_message_is_lost_and_a_repeat_is_a_duplicate() {
        let shared = Shared::new(8, 8);
        let mut sub = Sub::new(&shared, true, None);
        connect(&mut sub, &shared);
        for i in 0..4 {
            publish(&shared, i);
        }
        for (i, off) in [(0, 1), (1, 2), (3, 4), (3, 4)] {
            let id = (100 + i).to_string();
            sub.on_event(&shared, event("notification", Some(&id), frame(i, off)));
        }
        assert_eq!(shared.duplicates.load(Ordering::Relaxed), 1);
        // Offset 3 skipped; id 103 repeated.
        assert_eq!(shared.wire_gaps.load(Ordering::Relaxed), 1);
        assert_eq!(shared.wire_dups.load(Ordering::Relaxed), 1);
        assert!(shared.offsets_seen.load(Ordering::Relaxed));
        let r = sub.result(&shared);
        assert_eq!((r.owed, r.lost, r.lost_after_resync), (4, 1, 0));
        assert_eq!(r.latencies_us.len(), 3);
    }

    #[test]
    fn without_offsets_ids_must_be_consecutive() {
        let shared = Shared::new(8, 8);
        let mut sub = Sub::new(&shared, true, None);
        connect(&mut sub, &shared);
        for (i, id) in [(0, "1"), (1, "2"), (2, "5")] {
            publish(&shared, i);
            let data = format!(r#"{{"id":{id},"seq":{id},"title":"bench {i}","unread":1}}"#);
            sub.on_event(&shared, event("notification", Some(id), data));
        }
        assert_eq!(shared.wire_gaps.load(Ordering::Relaxed), 2);
        assert_eq!(sub.resume_id().as_deref(), Some("5"));
        assert_eq!(sub.result(&shared).lost, 0);
    }

    #[test]
    fn messages_sent_before_the_stream_connected_are_not_owed() {
        let shared = Shared::new(8, 8);
        publish(&shared, 0);
        std::thread::sleep(Duration::from_millis(1));
        let mut sub = Sub::new(&shared, true, None);
        connect(&mut sub, &shared);
        publish(&shared, 1);
        sub.on_event(&shared, event("notification", Some("102"), frame(1, 2)));
        let r = sub.result(&shared);
        assert_eq!((r.owed, r.lost), (1, 0));
    }

    #[test]
    fn a_reopened_stream_is_caught_up_once_it_has_what_it_missed() {
        let shared = Shared::new(8, 0);
        let mut sub = Sub::new(&shared, true, None);
        connect(&mut sub, &shared);
        publish(&shared, 0);
        sub.on_event(&shared, event("notification", Some("100"), frame(0, 1)));
        // Closed; two messages go out meanwhile, then the reopen.
        publish(&shared, 1);
        publish(&shared, 2);
        reopen(&mut sub, &shared, 3);
        assert_eq!(shared.reconnected.load(Ordering::Relaxed), 1);
        assert!(!sub.caught_up);
        sub.on_event(&shared, event("notification", Some("101"), frame(1, 2)));
        assert!(!sub.caught_up);
        sub.on_event(&shared, event("notification", Some("102"), frame(2, 3)));
        assert!(sub.caught_up);
        assert_eq!(shared.replayed.load(Ordering::Relaxed), 2);
        assert_eq!(shared.caught_up.load(Ordering::Relaxed), 1);
        let r = sub.result(&shared);
        assert_eq!((r.owed, r.lost), (3, 0));
    }

    #[test]
    fn after_a_resync_what_is_missing_is_counted_apart() {
        let shared = Shared::new(8, 0);
        let mut sub = Sub::new(&shared, true, None);
        connect(&mut sub, &shared);
        publish(&shared, 0);
        publish(&shared, 1);
        reopen(&mut sub, &shared, 2);
        sub.on_event(&shared, event("resync", None, "{}".into()));
        assert!(sub.caught_up);
        // After the resync the stream goes on from a new offset: no gap.
        publish(&shared, 2);
        sub.on_event(&shared, event("notification", Some("110"), frame(2, 9)));
        assert_eq!(shared.wire_gaps.load(Ordering::Relaxed), 0);
        let r = sub.result(&shared);
        assert_eq!((r.owed, r.lost, r.lost_after_resync), (3, 0, 2));
        assert_eq!(shared.resynced_streams.load(Ordering::Relaxed), 1);
    }
}
