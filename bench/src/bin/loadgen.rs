//! `loadgen`: opens N SSE subscribers against Herald or the baseline server,
//! publishes M messages at R msg/s, and measures what arrives.
//!
//! Phase 1 opens every stream (bounded concurrency) and measures the
//! server's resident memory before and after. Phase 2 publishes; every
//! subscriber timestamps each message against the instant the publisher
//! recorded just before sending it (one process, one monotonic clock).
//!
//! Run `loadgen --help` for the flags.

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    path::PathBuf,
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use herald_bench::{
    procfs,
    stats::Summary,
    wire::{self, Dechunker, SseEvent},
};
use serde::Deserialize;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
    time::MissedTickBehavior,
};

/// File descriptors the process needs besides its subscribers (runtime,
/// publisher, stdio, /proc readings).
const SPARE_FDS: u64 = 100;
/// Big enough for a Herald notification frame (~300 B) in one read, small
/// enough that 10,000 of them stay a few tens of MB.
const READ_BUF: usize = 2048;

const USAGE: &str = "\
usage: loadgen [options]
  --target herald|baseline   which server is under test (default herald)
  --base-url URL             http://IP:PORT of the server (default http://127.0.0.1:3000)
  --subscribers N            SSE streams to open (default 10000)
  --messages M               messages to publish (default 50)
  --rate R                   publish rate, messages per second (default 10)
  --source-ips K             spread client sockets over 127.0.0.1..127.0.0.K (default 4)
  --server-pid PID           read the server's VmRSS / CPU from /proc/PID
  --tokens-file FILE         herald: one bearer token per line, used round-robin
  --admin-token TOKEN        herald: bearer token that publishes
  --connect-concurrency C    streams being opened at once (default 100; keep it under
                             the server's listen backlog, 128 for tokio's default)
  --connect-timeout S        per-stream limit to get established, seconds (default 60)
  --drain-timeout S          wait for deliveries after the last publish, seconds (default 10)
  --json-out FILE            also write the results as JSON";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Herald,
    Baseline,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Herald => "herald",
            Target::Baseline => "baseline",
        }
    }
}

#[derive(Debug)]
struct Args {
    target: Target,
    server: SocketAddr,
    subscribers: usize,
    messages: usize,
    rate: f64,
    source_ips: u8,
    server_pid: Option<u32>,
    tokens: Vec<String>,
    admin_token: Option<String>,
    connect_concurrency: usize,
    connect_timeout: Duration,
    drain_timeout: Duration,
    json_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut target = Target::Herald;
    let mut base_url = "http://127.0.0.1:3000".to_string();
    let mut subscribers = 10_000;
    let mut messages = 50;
    let mut rate: f64 = 10.0;
    let mut source_ips = 4;
    let mut server_pid = None;
    let mut tokens_file: Option<PathBuf> = None;
    let mut admin_token = None;
    let mut connect_concurrency = 100;
    let mut connect_timeout: f64 = 60.0;
    let mut drain_timeout: f64 = 10.0;
    let mut json_out = None;

    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: {what}, got {value:?}");
        match flag.as_str() {
            "--target" => {
                target = match value.as_str() {
                    "herald" => Target::Herald,
                    "baseline" => Target::Baseline,
                    _ => return Err(bad("expected herald or baseline")),
                }
            }
            "--base-url" => base_url = value,
            "--subscribers" => subscribers = value.parse().map_err(|_| bad("expected a count"))?,
            "--messages" => messages = value.parse().map_err(|_| bad("expected a count"))?,
            "--rate" => rate = value.parse().map_err(|_| bad("expected msg/s"))?,
            "--source-ips" => source_ips = value.parse().map_err(|_| bad("expected 1..=254"))?,
            "--server-pid" => server_pid = Some(value.parse().map_err(|_| bad("expected a pid"))?),
            "--tokens-file" | "--users-file" => tokens_file = Some(value.into()),
            "--admin-token" => admin_token = Some(value),
            "--connect-concurrency" => {
                connect_concurrency = value.parse().map_err(|_| bad("expected a count"))?
            }
            "--connect-timeout" => {
                connect_timeout = value.parse().map_err(|_| bad("expected seconds"))?
            }
            "--drain-timeout" => {
                drain_timeout = value.parse().map_err(|_| bad("expected seconds"))?
            }
            "--json-out" => json_out = Some(value.into()),
            _ => return Err(format!("unknown flag {flag:?}\n{USAGE}")),
        }
    }

    let host = base_url
        .strip_prefix("http://")
        .ok_or("--base-url must start with http://")?
        .trim_end_matches('/');
    let server: SocketAddr = host
        .parse()
        .map_err(|_| format!("--base-url must be http://IP:PORT, got {base_url:?}"))?;
    if !server.ip().is_loopback() {
        return Err(
            "--base-url must be a loopback address: this tool only loads local servers".into(),
        );
    }
    if source_ips == 0 || source_ips > 254 {
        return Err("--source-ips must be 1..=254".into());
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if subscribers == 0 || messages == 0 || !positive(rate) || connect_concurrency == 0 {
        return Err(
            "--subscribers, --messages, --rate and --connect-concurrency must be positive".into(),
        );
    }
    if !positive(connect_timeout) || !(positive(drain_timeout) || drain_timeout == 0.0) {
        return Err("--connect-timeout and --drain-timeout must be positive seconds".into());
    }
    let tokens = match &tokens_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("--tokens-file {}: {e}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        None => Vec::new(),
    };
    if target == Target::Herald && (tokens.is_empty() || admin_token.is_none()) {
        return Err("--target herald needs --tokens-file (non-empty) and --admin-token".into());
    }
    Ok(Args {
        target,
        server,
        subscribers,
        messages,
        rate,
        source_ips,
        server_pid,
        tokens,
        admin_token,
        connect_concurrency,
        connect_timeout: Duration::from_secs_f64(connect_timeout),
        drain_timeout: Duration::from_secs_f64(drain_timeout),
        json_out,
    })
}

/// Raises the soft open-file limit to the hard one; returns the new soft limit.
fn raise_fd_limit() -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a stack value we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
            }
            lim = raised;
        }
    }
    Ok(lim.rlim_cur)
}

/// Everything the subscribers and the publisher share. Instants are stored
/// as nanoseconds since `clock` so they fit in atomics.
struct Shared {
    clock: Instant,
    messages: usize,
    /// Per message: when the publisher started sending it (+1, so 0 = not yet).
    sent_at: Vec<AtomicU64>,
    /// Per message: the latest arrival at any subscriber (+1, 0 = none yet).
    last_recv: Vec<AtomicU64>,
    received: AtomicU64,
    duplicates: AtomicU64,
    foreign: AtomicU64,
    resyncs: AtomicU64,
    pings: AtomicU64,
    established: AtomicUsize,
    last_established: AtomicU64,
    failed: AtomicUsize,
    /// Streams that ended (EOF or error) after being established.
    dropped: AtomicUsize,
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    connect: usize,
    status: usize,
    timeout: usize,
    io: usize,
    /// The first few distinct messages, to print.
    samples: Vec<String>,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64 + 1
    }

    fn fail(&self, kind: fn(&mut Failures) -> &mut usize, msg: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        *kind(&mut f) += 1;
        if f.samples.len() < 5 && !f.samples.contains(&msg) {
            f.samples.push(msg);
        }
    }
}

/// What a subscriber knows up front.
struct SubConfig {
    target: Target,
    server: SocketAddr,
    source_ips: u8,
    tokens: Vec<String>,
    connect_timeout: Duration,
}

/// `data:` of a notification, as far as we read it. Borrowed: no allocation
/// per event unless the title has escapes.
#[derive(Deserialize)]
struct Notification<'a> {
    #[serde(borrow)]
    title: std::borrow::Cow<'a, str>,
}

/// The index `n` of a `"bench n"` title.
fn message_index(data: &str) -> Option<usize> {
    let n: Notification<'_> = serde_json::from_str(data).ok()?;
    n.title.strip_prefix("bench ")?.trim().parse().ok()
}

/// Per-stream state while it runs.
struct Sub {
    /// Held until the stream is established, so at most
    /// `--connect-concurrency` connections are being set up at once.
    permit: Option<OwnedSemaphorePermit>,
    established: bool,
    /// Bit per message index: which ones this stream already got.
    seen: Vec<u64>,
    latencies_us: Vec<u32>,
}

impl Sub {
    fn on_established(&mut self, shared: &Shared) {
        if !self.established {
            self.established = true;
            self.permit = None;
            shared.established.fetch_add(1, Ordering::Relaxed);
            shared
                .last_established
                .fetch_max(shared.now_ns(), Ordering::Relaxed);
        }
    }

    fn on_event(&mut self, shared: &Shared, ev: SseEvent<'_>) {
        match ev.event {
            "connected" => self.on_established(shared),
            "notification" => {
                let now = shared.now_ns();
                let Some(idx) = message_index(&ev.data).filter(|i| *i < shared.messages) else {
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
                shared.last_recv[idx].fetch_max(now, Ordering::Relaxed);
                // The publisher stores the send instant before it writes the
                // request, so it is always set by the time the event arrives.
                let sent = shared.sent_at[idx].load(Ordering::Acquire);
                if sent != 0 {
                    let us = now.saturating_sub(sent) / 1000;
                    self.latencies_us.push(us.min(u32::MAX as u64) as u32);
                }
            }
            "resync" => {
                shared.resyncs.fetch_add(1, Ordering::Relaxed);
            }
            "ping" => {
                shared.pings.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
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
    let stream = socket.connect(cfg.server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One SSE subscriber, from connect until `stop` fires or the stream ends.
/// Returns its delivery latencies in microseconds.
async fn subscriber(
    index: usize,
    cfg: Arc<SubConfig>,
    shared: Arc<Shared>,
    gate: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Vec<u32> {
    let permit = gate.acquire_owned().await.ok();
    let mut sub = Sub {
        permit,
        established: false,
        seen: vec![0; shared.messages.div_ceil(64)],
        latencies_us: Vec::with_capacity(shared.messages),
    };
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;

    let mut stream = match tokio::time::timeout_at(deadline, connect(&cfg, index)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            shared.fail(|f| &mut f.connect, format!("connect: {e}"));
            return sub.latencies_us;
        }
        Err(_) => {
            shared.fail(|f| &mut f.timeout, "timed out connecting".into());
            return sub.latencies_us;
        }
    };
    let request = match cfg.target {
        Target::Herald => format!(
            "GET /sse/stream HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nAuthorization: Bearer {}\r\n\r\n",
            cfg.server,
            cfg.tokens[index % cfg.tokens.len()]
        ),
        Target::Baseline => format!(
            "GET /sse HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
            cfg.server
        ),
    };
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        shared.fail(|f| &mut f.io, format!("sending request: {e}"));
        return sub.latencies_us;
    }
    drop(request);

    // `raw` holds bytes as read; `events` the de-chunked SSE text.
    let mut raw: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut events: Vec<u8> = Vec::new();
    let mut head_done = false;
    let mut dechunk: Option<Dechunker> = None;

    loop {
        // Read more, unless told to stop or the setup deadline passes.
        let start = raw.len();
        raw.resize(start + READ_BUF, 0);
        let read = tokio::select! {
            r = stream.read(&mut raw[start..]) => r,
            _ = stop.changed() => return sub.latencies_us,
            _ = tokio::time::sleep_until(deadline), if !sub.established => {
                shared.fail(|f| &mut f.timeout, "timed out waiting to be established".into());
                return sub.latencies_us;
            }
        };
        let n = match read {
            Ok(0) | Err(_) if sub.established => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                return sub.latencies_us;
            }
            Ok(0) => {
                shared.fail(|f| &mut f.io, "connection closed before established".into());
                return sub.latencies_us;
            }
            Err(e) => {
                shared.fail(|f| &mut f.io, format!("reading: {e}"));
                return sub.latencies_us;
            }
            Ok(n) => n,
        };
        raw.truncate(start + n);

        if !head_done {
            match wire::parse_head(&raw) {
                Ok(None) => continue,
                Ok(Some(head)) if head.status != 200 => {
                    shared.fail(|f| &mut f.status, format!("HTTP {}", head.status));
                    return sub.latencies_us;
                }
                Ok(Some(head)) => {
                    head_done = true;
                    raw.drain(..head.len);
                    dechunk = head.chunked.then(Dechunker::default);
                    // The baseline sends nothing until the first message:
                    // its stream is open once the headers are in.
                    if cfg.target == Target::Baseline {
                        sub.on_established(&shared);
                    }
                }
                Err(e) => {
                    shared.fail(|f| &mut f.io, format!("bad response: {e}"));
                    return sub.latencies_us;
                }
            }
        }

        match dechunk.as_mut() {
            Some(d) => match d.decode(&raw, &mut events) {
                Ok(used) => {
                    raw.drain(..used);
                }
                Err(e) => {
                    shared.fail(|f| &mut f.io, format!("bad chunking: {e}"));
                    return sub.latencies_us;
                }
            },
            None => events.append(&mut raw),
        }

        let mut used = 0;
        while let Some((block, len)) = wire::next_block(&events[used..]) {
            sub.on_event(&shared, wire::parse_event(block));
            used += len;
        }
        events.drain(..used);

        if dechunk.as_ref().is_some_and(Dechunker::is_done) {
            if sub.established {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                shared.fail(|f| &mut f.io, "stream ended before established".into());
            }
            return sub.latencies_us;
        }
    }
}

/// A keep-alive HTTP/1.1 connection for publishing, separate from the
/// subscribers so its requests never queue behind them.
struct Publisher {
    server: SocketAddr,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Publisher {
    async fn post(&mut self, path: &str, auth: Option<&str>, body: &str) -> Result<u16, String> {
        // One retry on a fresh connection covers a keep-alive closed by the server.
        match self.try_post(path, auth, body).await {
            Ok(status) => Ok(status),
            Err(_) => {
                self.conn = None;
                self.try_post(path, auth, body).await
            }
        }
    }

    async fn try_post(
        &mut self,
        path: &str,
        auth: Option<&str>,
        body: &str,
    ) -> Result<u16, String> {
        if self.conn.is_none() {
            let s = TcpStream::connect(self.server)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(s);
            self.buf.clear();
        }
        let conn = self.conn.as_mut().expect("connected above");
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{body}",
            self.server,
            body.len()
        );
        conn.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;

        let mut chunk = [0u8; 4096];
        let head = loop {
            if let Some(head) = wire::parse_head(&self.buf).map_err(|e| e.to_string())? {
                break head;
            }
            let n = conn
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        self.buf.drain(..head.len);
        // Read (and discard) the body so the next response starts clean.
        if head.chunked {
            let mut d = Dechunker::default();
            let mut sink = Vec::new();
            loop {
                let used = d.decode(&self.buf, &mut sink).map_err(|e| e.to_string())?;
                self.buf.drain(..used);
                if d.is_done() {
                    break;
                }
                let n = conn.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed".into());
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
        } else {
            let len = head.content_length.unwrap_or(0);
            while self.buf.len() < len {
                let n = conn.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed".into());
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
            self.buf.drain(..len);
        }
        Ok(head.status)
    }
}

/// At most this many publish requests in flight; past it the publisher
/// waits, i.e. the server is far slower than the requested rate.
const MAX_PUBLISHES_IN_FLIGHT: usize = 64;

/// Publishes every message at the configured rate, open loop: each message
/// goes out on its tick whether or not the previous one was answered (on an
/// idle pooled connection, or a new one), so a slow publish path shows up as
/// latency instead of quietly lowering the offered rate. Returns per-request
/// durations (µs) and the failures.
async fn publish_all(args: &Args, shared: &Arc<Shared>) -> (Vec<u32>, Vec<String>) {
    let idle: Arc<Mutex<Vec<Publisher>>> = Arc::default();
    let in_flight = Arc::new(Semaphore::new(MAX_PUBLISHES_IN_FLIGHT));
    let auth: Arc<Option<String>> = Arc::new(args.admin_token.clone());
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    // If the load generator itself stalls, catch up: the average rate is the
    // setting under test.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut requests = JoinSet::new();
    for i in 0..args.messages {
        ticker.tick().await;
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let (path, body) = match args.target {
            Target::Herald => (
                "/api/sse/broadcast",
                json!({"event": "notification", "data": {"title": format!("bench {i}"), "body": ""}}),
            ),
            Target::Baseline => ("/publish", json!({"title": format!("bench {i}")})),
        };
        let body = body.to_string();
        let (idle, auth, shared, server) =
            (idle.clone(), auth.clone(), shared.clone(), args.server);
        requests.spawn(async move {
            let _permit = permit;
            let pooled = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut publisher = pooled.unwrap_or_else(|| Publisher {
                server,
                conn: None,
                buf: Vec::new(),
            });
            let start = shared.now_ns();
            shared.sent_at[i].store(start, Ordering::Release);
            let result = publisher.post(path, auth.as_deref(), &body).await;
            let took_us = ((shared.now_ns() - start) / 1000) as u32;
            if result.is_ok() {
                idle.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(publisher);
            }
            (i, result, took_us)
        });
    }
    let mut durations = Vec::with_capacity(args.messages);
    let mut errors = Vec::new();
    while let Some(done) = requests.join_next().await {
        match done {
            Ok((_, Ok(200), took_us)) => durations.push(took_us),
            Ok((i, Ok(status), _)) => errors.push(format!("message {i}: HTTP {status}")),
            Ok((i, Err(e), _)) => errors.push(format!("message {i}: {e}")),
            Err(e) => errors.push(format!("publish task: {e}")),
        }
    }
    (durations, errors)
}

/// Waits for the server's RSS to settle (two readings 500 ms apart within
/// 1%, at most ~5 s), then returns it.
async fn settled_rss(pid: u32) -> Option<u64> {
    let mut last = procfs::rss_kb(pid)?;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = procfs::rss_kb(pid)?;
        if now.abs_diff(last) * 100 <= last {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.2} ms"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let fd_limit = match raise_fd_limit() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.subscribers as u64 + SPARE_FDS > fd_limit {
        eprintln!(
            "loadgen: {} subscribers need about {} open files, but this process may only have {fd_limit} \
             (RLIMIT_NOFILE hard limit). Lower --subscribers or raise the limit (ulimit -Hn).",
            args.subscribers,
            args.subscribers as u64 + SPARE_FDS
        );
        return ExitCode::FAILURE;
    }
    // Fail early and clearly if the extra loopback source addresses are unusable.
    for k in 1..=args.source_ips {
        let addr = SocketAddr::from((Ipv4Addr::new(127, 0, 0, k), 0));
        if let Err(e) = std::net::UdpSocket::bind(addr) {
            eprintln!("loadgen: cannot bind source address {addr}: {e} (lower --source-ips)");
            return ExitCode::FAILURE;
        }
    }

    let run = run(args).await;
    match run {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs both phases, prints and writes the results; `Ok(false)` when the
/// run completed but something failed (lost messages, failed streams, ...).
async fn run(args: Args) -> Result<bool, String> {
    let target = args.target.name();
    eprintln!(
        "loadgen: {target} at {} — {} subscribers, {} messages at {} msg/s, {} source IPs",
        args.server, args.subscribers, args.messages, args.rate, args.source_ips
    );
    let shared = Arc::new(Shared {
        clock: Instant::now(),
        messages: args.messages,
        sent_at: (0..args.messages).map(|_| AtomicU64::new(0)).collect(),
        last_recv: (0..args.messages).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
        resyncs: AtomicU64::new(0),
        pings: AtomicU64::new(0),
        established: AtomicUsize::new(0),
        last_established: AtomicU64::new(0),
        failed: AtomicUsize::new(0),
        dropped: AtomicUsize::new(0),
        failures: Mutex::default(),
    });
    let pid = args.server_pid;
    let rss_before = pid.and_then(procfs::rss_kb);
    let cpu_before = pid.and_then(procfs::cpu_secs);

    // Phase 1: open every stream.
    let cfg = Arc::new(SubConfig {
        target: args.target,
        server: args.server,
        source_ips: args.source_ips,
        tokens: args.tokens.clone(),
        connect_timeout: args.connect_timeout,
    });
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let (stop_tx, stop_rx) = watch::channel(false);
    let connect_start = shared.now_ns();
    let mut tasks = JoinSet::new();
    for i in 0..args.subscribers {
        tasks.spawn(subscriber(
            i,
            cfg.clone(),
            shared.clone(),
            gate.clone(),
            stop_rx.clone(),
        ));
    }
    let mut last_report = Instant::now();
    // Every stream ends up established or failed within its own timeout once
    // it starts; this guards the phase as a whole against a server that
    // stops accepting (streams still queued for a permit would wait forever).
    let mut last_progress = (0, Instant::now());
    loop {
        let est = shared.established.load(Ordering::Relaxed);
        let failed = shared.failed.load(Ordering::Relaxed);
        if est + failed >= args.subscribers {
            break;
        }
        if est + failed != last_progress.0 {
            last_progress = (est + failed, Instant::now());
        } else if last_progress.1.elapsed() > args.connect_timeout + Duration::from_secs(5) {
            eprintln!(
                "loadgen: no stream opened or failed for {:.0} s; going on with {est} streams",
                last_progress.1.elapsed().as_secs_f64()
            );
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(2) {
            eprintln!("loadgen: {est} established, {failed} failed…");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let established = shared.established.load(Ordering::Relaxed);
    let connect_s = secs(
        shared
            .last_established
            .load(Ordering::Relaxed)
            .saturating_sub(connect_start),
    );
    let cpu_connect = pid.and_then(procfs::cpu_secs);
    let own_cpu_connect = procfs::cpu_secs(std::process::id());
    let machine_connect = procfs::machine_busy_secs();
    let rss_after = match pid {
        Some(pid) => settled_rss(pid).await,
        None => None,
    };
    eprintln!("loadgen: {established} streams established in {connect_s:.2} s; publishing…");

    // Phase 2: publish, then wait for the deliveries.
    let (publish_us, publish_errors) = publish_all(&args, &shared).await;
    let last_publish = shared.now_ns();
    let drain_deadline = Instant::now() + args.drain_timeout;
    let dropped_before_drain = shared.dropped.load(Ordering::Relaxed);
    loop {
        // Streams that died can no longer receive: don't wait for them.
        let live = established.saturating_sub(shared.dropped.load(Ordering::Relaxed)) as u64;
        let got = shared.received.load(Ordering::Relaxed);
        if got >= live * args.messages as u64 || Instant::now() >= drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained_s = secs(shared.now_ns().saturating_sub(last_publish));
    let rss_after_publish = pid.and_then(procfs::rss_kb);
    let cpu_end = pid.and_then(procfs::cpu_secs);
    let own_cpu_end = procfs::cpu_secs(std::process::id());
    let machine_end = procfs::machine_busy_secs();
    let loadgen_rss = procfs::rss_kb(std::process::id());

    // Stop every subscriber and gather latencies.
    let _ = stop_tx.send(true);
    let mut latencies: Vec<u32> = Vec::with_capacity(established * args.messages);
    let collect = async {
        while let Some(res) = tasks.join_next().await {
            if let Ok(mut l) = res {
                latencies.append(&mut l);
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), collect)
        .await
        .is_err()
    {
        eprintln!(
            "loadgen: some subscribers did not stop within 30 s; their latencies are missing"
        );
    }

    // Figures.
    let received = shared.received.load(Ordering::Relaxed);
    let duplicates = shared.duplicates.load(Ordering::Relaxed);
    let resyncs = shared.resyncs.load(Ordering::Relaxed);
    let dropped = shared.dropped.load(Ordering::Relaxed);
    let failed = shared.failed.load(Ordering::Relaxed);
    let expected = (established * args.messages) as u64;
    let lost = expected.saturating_sub(received);
    let latency = Summary::of_micros(&mut latencies);
    let mut last_sub_us: Vec<u32> = (0..args.messages)
        .filter_map(|i| {
            let sent = shared.sent_at[i].load(Ordering::Relaxed);
            let last = shared.last_recv[i].load(Ordering::Relaxed);
            (sent != 0 && last != 0).then(|| ((last.saturating_sub(sent)) / 1000) as u32)
        })
        .collect();
    let last_sub = Summary::of_micros(&mut last_sub_us);
    let first_send = shared.sent_at[0].load(Ordering::Relaxed);
    let last_send = shared
        .sent_at
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let achieved_rate = (args.messages > 1 && last_send > first_send)
        .then(|| (args.messages - 1) as f64 / secs(last_send - first_send));
    let last_delivery = shared
        .last_recv
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let delivery_window_s = secs(last_delivery.saturating_sub(first_send));
    let deliveries_per_sec = (delivery_window_s > 0.0).then(|| received as f64 / delivery_window_s);
    let mut publish_us = publish_us;
    let publish = Summary::of_micros(&mut publish_us);
    let kb_per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if established > 0 => Some((a as f64 - b as f64) / established as f64),
        _ => None,
    };
    let cpu_connect_s = cpu_before.zip(cpu_connect).map(|(b, a)| a - b);
    let cpu_publish_s = cpu_connect.zip(cpu_end).map(|(b, a)| a - b);
    // Both share the machine: if these two add up to all of its cores, the
    // figures are CPU-bound, not network- or lock-bound.
    let loadgen_cpu_publish_s = own_cpu_connect.zip(own_cpu_end).map(|(b, a)| a - b);
    // What the rest of the machine did meanwhile (e.g. a compiler): anything
    // well above zero means the figures were skewed. Kernel interrupt work
    // not charged to either process lands here too, so it is never quite 0.
    let other_cpu_publish_s = match (machine_connect, machine_end) {
        (Some(b), Some(a)) => cpu_publish_s
            .zip(loadgen_cpu_publish_s)
            .map(|(server, me)| (a - b - server - me).max(0.0)),
        _ => None,
    };
    // Streams neither established nor failed when phase 1 gave up on them.
    let pending = args.subscribers.saturating_sub(established + failed);
    let (failures, failure_text) = {
        let f = shared.failures.lock().unwrap_or_else(|e| e.into_inner());
        let text = format!(
            "connect {}, HTTP status {}, timeout {}, I/O {}, never started {pending}{}",
            f.connect,
            f.status,
            f.timeout,
            f.io,
            if f.samples.is_empty() {
                String::new()
            } else {
                format!("; e.g. {}", f.samples.join(" | "))
            }
        );
        let json = json!({
            "connect": f.connect, "http_status": f.status, "timeout": f.timeout,
            "io": f.io, "never_started": pending, "samples": f.samples,
        });
        (json, text)
    };

    let kb = |v: Option<u64>| v.map_or("n/a".into(), |v| format!("{v} KB"));
    println!("== {target} ({}) ==", args.server);
    println!(
        "subscribers requested   {}  (source IPs 127.0.0.1..{})",
        args.subscribers, args.source_ips
    );
    println!(
        "streams established     {established}  (failed {}: {failure_text})",
        failed + pending
    );
    println!("time to establish all   {connect_s:.2} s");
    println!(
        "messages                {} at {} msg/s, achieved {}  (publish errors {}; publish request p50 {} / max {})",
        args.messages,
        args.rate,
        achieved_rate.map_or("n/a".into(), |r| format!("{r:.2} msg/s")),
        publish_errors.len(),
        fmt_ms(publish.p50_ms),
        fmt_ms(publish.max_ms)
    );
    println!(
        "deliveries              {received} of {expected}  (lost {lost}, duplicates {duplicates}, \
         resyncs {resyncs}, streams dropped {dropped}, unknown notifications {})",
        shared.foreign.load(Ordering::Relaxed)
    );
    println!(
        "delivery latency        p50 {}  p99 {}  max {}",
        fmt_ms(latency.p50_ms),
        fmt_ms(latency.p99_ms),
        fmt_ms(latency.max_ms)
    );
    println!(
        "last subscriber         p50 {}  p99 {}  max {}  (per message, send → last arrival)",
        fmt_ms(last_sub.p50_ms),
        fmt_ms(last_sub.p99_ms),
        fmt_ms(last_sub.max_ms)
    );
    println!(
        "deliveries/s            {}  (over {delivery_window_s:.2} s from first publish to last delivery; \
         drained {drained_s:.2} s after the last publish was answered)",
        deliveries_per_sec.map_or("n/a".into(), |v| format!("{v:.0}"))
    );
    println!(
        "server RSS              before {}  after connect {}  after publish {}  → {} per connection",
        kb(rss_before),
        kb(rss_after),
        kb(rss_after_publish),
        kb_per_conn.map_or("n/a".into(), |v| format!("{v:.1} KB"))
    );
    println!(
        "server CPU              connect phase {}  publish phase {}  (publish phase: loadgen {}, rest of the machine {})",
        cpu_connect_s.map_or("n/a".into(), |v| format!("{v:.2} s")),
        cpu_publish_s.map_or("n/a".into(), |v| format!("{v:.2} s")),
        loadgen_cpu_publish_s.map_or("n/a".into(), |v| format!("{v:.2} s")),
        other_cpu_publish_s.map_or("n/a".into(), |v| format!("{v:.2} s"))
    );
    println!(
        "pings received          {}   loadgen RSS {}",
        shared.pings.load(Ordering::Relaxed),
        kb(loadgen_rss)
    );
    for e in publish_errors.iter().take(5) {
        println!("publish error: {e}");
    }
    if dropped > dropped_before_drain {
        println!(
            "note: {} streams ended during the delivery wait",
            dropped - dropped_before_drain
        );
    }

    if let Some(path) = &args.json_out {
        let out = json!({
            "target": target,
            "server": args.server.to_string(),
            "subscribers": args.subscribers,
            "source_ips": args.source_ips,
            "connect_concurrency": args.connect_concurrency,
            "streams_established": established,
            "streams_failed": failed + pending,
            "failures": failures,
            "streams_dropped": dropped,
            "connect_time_s": connect_s,
            "messages": args.messages,
            "rate": args.rate,
            "achieved_rate": achieved_rate,
            "publish_errors": publish_errors.len(),
            "publish_request_p50_ms": publish.p50_ms,
            "publish_request_max_ms": publish.max_ms,
            "expected_deliveries": expected,
            "deliveries": received,
            "lost": lost,
            "duplicates": duplicates,
            "resyncs": resyncs,
            "latency_p50_ms": latency.p50_ms,
            "latency_p99_ms": latency.p99_ms,
            "latency_max_ms": latency.max_ms,
            "last_subscriber_p50_ms": last_sub.p50_ms,
            "last_subscriber_p99_ms": last_sub.p99_ms,
            "last_subscriber_max_ms": last_sub.max_ms,
            "deliveries_per_sec": deliveries_per_sec,
            "delivery_window_s": delivery_window_s,
            "rss_before_kb": rss_before,
            "rss_after_kb": rss_after,
            "rss_after_publish_kb": rss_after_publish,
            "kb_per_connection": kb_per_conn,
            "server_cpu_connect_s": cpu_connect_s,
            "server_cpu_publish_s": cpu_publish_s,
            "loadgen_cpu_publish_s": loadgen_cpu_publish_s,
            "other_cpu_publish_s": other_cpu_publish_s,
            "pings": shared.pings.load(Ordering::Relaxed),
            "loadgen_rss_kb": loadgen_rss,
        });
        let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }

    Ok(established == args.subscribers && lost == 0 && resyncs == 0 && publish_errors.is_empty())
}
