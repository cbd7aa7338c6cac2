//! `soak`: mixed, bounded load against a running Herald for a fixed time,
//! then proof that nothing was lost and memory stayed flat.
//!
//! The mix, all of it running concurrently for the whole run (every actor is
//! closed-loop: it waits for each answer before its next tick, so a slow
//! server lowers the offered load instead of piling up requests):
//!
//! | actor          | rate                        | what                                             |
//! |----------------|-----------------------------|--------------------------------------------------|
//! | streams        | 1 per user, 2 for every 4th | `GET /sse/stream`, Bearer; each lives 20–120 s, then closes and resumes with its last `id:` (even slots send `Last-Event-ID`, odd slots `?last_event_id=`) after 0–2 s |
//! | storms         | every min(300 s, run/4), first at half that | 90% of the streams drop at once and reopen at once, resuming |
//! | broadcasts     | 2/s (admin)                 | `POST /api/sse/broadcast`                        |
//! | send-to-user   | 1/s (admin)                 | `POST /api/sse/send-to-user`, random user, event `notification` or `soak.direct` |
//! | mark-read      | 2/s                         | a random user marks one notification it received |
//! | read-all       | 1 per 5 s                   | a random user marks everything read              |
//! | inbox          | 1/s                         | a random user reads its first page               |
//! | good sign-ins  | 1 per 10 s, from 127.0.0.3  | a random user signs in again, its streams move to the new token, the old session signs out (which closes its streams) |
//! | bad sign-ins   | 1/s, from 127.0.0.2         | wrong password for a dedicated decoy account (401, then 429 once the limit is hit: both expected) |
//!
//! Loss check: each stream slot remembers every `seq` it received across all
//! its reconnects. After the load stops and a drain, each slot must hold
//! exactly `1..=last` for its user, where `last` is both the count of
//! accepted (200) publishes that targeted the user and the newest `seq` in
//! the user's inbox (`GET /api/notifications`); a mismatch is reported. A
//! `resync` is counted and answered like a real client would (refetch the
//! inbox, which fills the slot's gaps); a seq received twice by one slot is
//! a duplicate.
//!
//! Exit status: 0 pass; 3 the run completed but failed (lost notifications,
//! an unexpected 5xx, RSS at the end > 1.1 × RSS after warm-up, or the final
//! check could not be made); 1 setup error; 2 bad arguments.

use std::{
    collections::{BTreeMap, VecDeque},
    net::{Ipv4Addr, SocketAddr},
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use herald_bench::{
    http::{self, HttpConn, Reply},
    procfs,
    wire::{self, Dechunker, SseEvent},
};
use serde::Deserialize;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::{watch, Semaphore},
    task::JoinSet,
    time::MissedTickBehavior,
};

// The mix (see the table above). Every figure is printed at the start of a run.
const BROADCASTS_PER_SEC: f64 = 2.0;
const SENDS_TO_USER_PER_SEC: f64 = 1.0;
const MARK_READ_PER_SEC: f64 = 2.0;
const READ_ALL_PER_SEC: f64 = 0.2;
const INBOX_READS_PER_SEC: f64 = 1.0;
const GOOD_SIGNINS_PER_SEC: f64 = 0.1;
const BAD_SIGNINS_PER_SEC: f64 = 1.0;
/// Every n-th user keeps a second stream (a second tab).
const SECOND_STREAM_EVERY: usize = 4;
/// A stream's life before it churns, seconds (uniform).
const STREAM_LIFETIME_SECS: (u64, u64) = (20, 120);
/// Pause before a churned stream reopens, milliseconds (uniform from 0).
const REOPEN_PAUSE_MS: u64 = 2_000;
/// Share of the open streams a storm drops.
const STORM_SHARE: f64 = 0.9;
/// Storm period and warm-up point, capped for long runs and scaled for short ones.
const STORM_PERIOD_MAX: Duration = Duration::from_secs(300);
const WARMUP_MAX: Duration = Duration::from_secs(300);
/// RSS at the end may be at most this times the RSS at the warm-up point.
const RSS_GROWTH_LIMIT: f64 = 1.10;
const REPORT_EVERY: Duration = Duration::from_secs(30);
/// After the load stops: how long streams get to catch up.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const STREAM_OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause after a refused or failed stream open, and after the server closed one.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
const READ_BUF: usize = 4096;
/// Notification ids a user remembers for mark-read.
const RECENT_IDS: usize = 32;

/// Loopback sources: streams and ordinary requests, bad sign-ins, good sign-ins.
const SOURCE_MAIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const SOURCE_BAD_SIGNIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const SOURCE_GOOD_SIGNIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

const USAGE: &str = "\
usage: soak [options]   (passwords come from the environment: SOAK_PASSWORD)
  --base-url URL       http://127.0.0.1:PORT of Herald (default http://127.0.0.1:3000)
  --duration S         seconds of load (default 1800)
  --server-pid PID     Herald's pid, for its RSS (required)
  --users N            accounts <prefix>1..<prefix>N, all with SOAK_PASSWORD (default 200)
  --user-prefix P      (default soak)
  --admin NAME         an admin account with SOAK_PASSWORD (default soak-admin)
  --decoy NAME         the account bad sign-ins aim at (default soak-decoy)";

struct Args {
    server: SocketAddr,
    duration: Duration,
    server_pid: u32,
    users: usize,
    user_prefix: String,
    admin: String,
    decoy: String,
    password: String,
}

fn parse_args() -> Result<Args, String> {
    let mut base_url = "http://127.0.0.1:3000".to_string();
    let mut duration = 1800u64;
    let mut server_pid = None;
    let mut users = 200usize;
    let mut user_prefix = "soak".to_string();
    let mut admin = "soak-admin".to_string();
    let mut decoy = "soak-decoy".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: {what}, got {value:?}");
        match flag.as_str() {
            "--base-url" => base_url = value,
            "--duration" => duration = value.parse().map_err(|_| bad("expected seconds"))?,
            "--server-pid" => server_pid = Some(value.parse().map_err(|_| bad("expected a pid"))?),
            "--users" => users = value.parse().map_err(|_| bad("expected a count"))?,
            "--user-prefix" => user_prefix = value,
            "--admin" => admin = value,
            "--decoy" => decoy = value,
            _ => return Err(format!("unknown flag {flag:?}\n{USAGE}")),
        }
    }
    let server: SocketAddr = base_url
        .strip_prefix("http://")
        .map(|h| h.trim_end_matches('/'))
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| format!("--base-url must be http://IP:PORT, got {base_url:?}"))?;
    if !server.ip().is_loopback() {
        return Err(
            "--base-url must be a loopback address: this tool only loads local servers".into(),
        );
    }
    if duration < 30 || users == 0 {
        return Err("--duration must be at least 30 s and --users positive".into());
    }
    let server_pid = server_pid.ok_or("--server-pid is required")?;
    let password = std::env::var("SOAK_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .ok_or("SOAK_PASSWORD must be set")?;
    Ok(Args {
        server,
        duration: Duration::from_secs(duration),
        server_pid,
        users,
        user_prefix,
        admin,
        decoy,
        password,
    })
}

/// A small xorshift generator: the soak needs spread, not statistics.
struct Rng(u64);

impl Rng {
    fn seeded(salt: u64) -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What a request was, for the status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    SignInSetup,
    Stream,
    /// A stream opened with a token whose session had just been signed out.
    StreamStaleToken,
    SignIn,
    SignInBad,
    SignOut,
    Broadcast,
    SendToUser,
    MarkRead,
    ReadAll,
    Inbox,
    Refetch,
    Stats,
    FinalCheck,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SignInSetup => "sign-in (setup)",
            Kind::Stream => "stream open",
            Kind::StreamStaleToken => "stream open, signed-out token",
            Kind::SignIn => "sign-in",
            Kind::SignInBad => "sign-in, bad password (decoy)",
            Kind::SignOut => "sign-out",
            Kind::Broadcast => "broadcast",
            Kind::SendToUser => "send-to-user",
            Kind::MarkRead => "mark-read",
            Kind::ReadAll => "read-all",
            Kind::Inbox => "inbox",
            Kind::Refetch => "inbox refetch after resync",
            Kind::Stats => "stats (admin)",
            Kind::FinalCheck => "final check (inbox)",
        }
    }

    /// Whether `status` is an answer this request may rightly get (0 = no
    /// answer: connection error or timeout, never expected).
    fn expects(self, status: u16) -> bool {
        match self {
            Kind::SignInBad => matches!(status, 401 | 429),
            Kind::StreamStaleToken => status == 401,
            Kind::SignOut => status == 204,
            Kind::MarkRead => status == 204,
            _ => status == 200,
        }
    }
}

/// Requests by kind and status.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<(Kind, u16), u64>>);

impl Tally {
    fn add(&self, kind: Kind, status: u16) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((kind, status))
            .or_default() += 1;
    }
    fn snapshot(&self) -> BTreeMap<(Kind, u16), u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn status_label(status: u16) -> String {
    if status == 0 {
        "no answer".into()
    } else {
        status.to_string()
    }
}

/// One bit per seq.
#[derive(Default, Clone)]
struct SeqSet(Vec<u64>);

impl SeqSet {
    /// Adds `seq`; false when it was already there.
    fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let had = self.0[word] & bit != 0;
        self.0[word] |= bit;
        !had
    }
    fn contains(&self, seq: u64) -> bool {
        let word = (seq / 64) as usize;
        word < self.0.len() && self.0[word] & (1u64 << (seq % 64)) != 0
    }
    /// Highest n such that 1..=n are all present.
    fn contiguous(&self) -> u64 {
        let mut n = 0;
        while self.contains(n + 1) {
            n += 1;
        }
        n
    }
}

#[derive(Default)]
struct SlotState {
    /// The `id:` of the last event received: the resume token.
    last_id: Option<String>,
    /// Seqs that arrived on a stream.
    streamed: SeqSet,
    /// Seqs read from the inbox after a `resync`.
    recovered: SeqSet,
    duplicates: u64,
    out_of_order: u64,
    resyncs: u64,
    opens: u64,
}

/// One virtual user: an account, its current session, its stream slots.
struct Vu {
    name: String,
    id: i64,
    token: Mutex<String>,
    recent_ids: Mutex<VecDeque<i64>>,
    slots: Vec<Mutex<SlotState>>,
    /// Accepted (200) send-to-user publishes aimed at this user.
    sends_ok: AtomicU64,
}

impl Vu {
    fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Load,
    Drain,
    Stop,
}

struct Ctx {
    server: SocketAddr,
    users: Vec<Arc<Vu>>,
    admin_token: String,
    password: String,
    decoy: String,
    tally: Tally,
    open_streams: AtomicUsize,
    broadcasts_ok: AtomicU64,
    /// Publishes that got no answer: the server may or may not have stored them.
    publishes_unknown: AtomicU64,
    resyncs: AtomicU64,
    /// Established streams the server ended (sign-out, shutdown, a write timeout…).
    closed_by_server: AtomicU64,
    storms: AtomicU64,
}

impl Ctx {
    fn user_slot(&self, user: usize, slot: usize) -> std::sync::MutexGuard<'_, SlotState> {
        self.users[user].slots[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one request on `conn`, bounded by [`REQUEST_TIMEOUT`], and counts it.
    async fn request(
        &self,
        conn: &mut HttpConn,
        kind: Kind,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Option<Reply> {
        let reply =
            tokio::time::timeout(REQUEST_TIMEOUT, conn.request(method, path, bearer, body)).await;
        match reply {
            Ok(Ok(reply)) => {
                self.tally.add(kind, reply.status);
                Some(reply)
            }
            Ok(Err(_)) | Err(_) => {
                // A timed-out request leaves the connection mid-answer: start afresh.
                conn.reset();
                self.tally.add(kind, 0);
                None
            }
        }
    }
}

#[derive(Deserialize)]
struct SignedIn {
    token: String,
    user: SignedInUser,
}

#[derive(Deserialize)]
struct SignedInUser {
    id: i64,
}

/// The fields of a stored event's `data:` the check needs.
#[derive(Deserialize)]
struct StoredEvent {
    id: i64,
    seq: Option<i64>,
}

#[derive(Deserialize)]
struct InboxPage {
    items: Vec<InboxItem>,
    next_before: Option<i64>,
}

#[derive(Deserialize)]
struct InboxItem {
    seq: i64,
}

fn login_body(name: &str, password: &str) -> String {
    json!({ "username": name, "password": password }).to_string()
}

/// Signs `name` in at setup, retrying refusals (429/503) for up to a minute.
async fn setup_sign_in(
    ctx_tally: &Tally,
    server: SocketAddr,
    name: &str,
    password: &str,
) -> Result<SignedIn, String> {
    let mut conn = HttpConn::new(server, Some(SOURCE_MAIN));
    let body = login_body(name, password);
    for _ in 0..60 {
        let reply = tokio::time::timeout(
            REQUEST_TIMEOUT,
            conn.request("POST", "/api/auth/login", None, Some(&body)),
        )
        .await
        .map_err(|_| format!("sign-in of {name} timed out"))?
        .map_err(|e| format!("sign-in of {name}: {e}"))?;
        ctx_tally.add(Kind::SignInSetup, reply.status);
        match reply.status {
            200 => {
                return serde_json::from_slice(&reply.body)
                    .map_err(|e| format!("sign-in of {name}: bad answer: {e}"))
            }
            429 | 503 => tokio::time::sleep(RETRY_PAUSE).await,
            s => return Err(format!("sign-in of {name}: HTTP {s}")),
        }
    }
    Err(format!("sign-in of {name}: still refused after a minute"))
}

/// Why an established stream ended.
enum Ended {
    Churn,
    Storm,
    ByServer,
    Stop,
}

/// One stream slot of a user, for the whole run: open, read, churn, resume.
async fn run_slot(
    ctx: Arc<Ctx>,
    user: usize,
    slot: usize,
    mut phase: watch::Receiver<Phase>,
    mut storm: watch::Receiver<u64>,
    start_delay: Duration,
) {
    let mut rng = Rng::seeded((user * 16 + slot) as u64);
    tokio::time::sleep(start_delay).await;
    let via_query = slot % 2 == 1 || user % 2 == 1;
    loop {
        if *phase.borrow() == Phase::Stop {
            return;
        }
        let pause = match open_and_read(
            &ctx, user, slot, via_query, &mut rng, &mut phase, &mut storm,
        )
        .await
        {
            Ok(Ended::Stop) => return,
            Ok(Ended::Churn) => Duration::from_millis(rng.below(REOPEN_PAUSE_MS)),
            Ok(Ended::Storm) => Duration::ZERO,
            Ok(Ended::ByServer) => {
                ctx.closed_by_server.fetch_add(1, Ordering::Relaxed);
                RETRY_PAUSE / 2
            }
            Err(()) => RETRY_PAUSE,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = phase.wait_for(|p| *p == Phase::Stop) => return,
        }
    }
}

/// Opens one stream (resuming where the slot left off) and reads it until it
/// churns, a storm takes it, the server ends it, or the run stops.
/// `Err(())` when it did not open (already counted).
#[allow(clippy::too_many_arguments)]
async fn open_and_read(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    via_query: bool,
    rng: &mut Rng,
    phase: &mut watch::Receiver<Phase>,
    storm: &mut watch::Receiver<u64>,
) -> Result<Ended, ()> {
    let vu = &ctx.users[user];
    let token = vu.token();
    let last_id = ctx.user_slot(user, slot).last_id.clone();
    let mut path = "/sse/stream".to_string();
    let mut extra = String::new();
    if let Some(id) = &last_id {
        if via_query {
            path = format!("/sse/stream?last_event_id={id}");
        } else {
            extra = format!("Last-Event-ID: {id}\r\n");
        }
    }
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nAuthorization: Bearer {token}\r\n{extra}\r\n",
        ctx.server
    );

    let mut raw: Vec<u8> = Vec::with_capacity(READ_BUF);
    let opened = tokio::time::timeout(STREAM_OPEN_TIMEOUT, async {
        let mut stream = http::connect(ctx.server, Some(SOURCE_MAIN))
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let start = raw.len();
            raw.resize(start + READ_BUF, 0);
            let n = stream
                .read(&mut raw[start..])
                .await
                .map_err(|e| e.to_string())?;
            raw.truncate(start + n);
            if n == 0 {
                return Err("closed before the response head".to_string());
            }
            if let Some(head) = wire::parse_head(&raw).map_err(|e| e.0)? {
                return Ok((stream, head));
            }
        }
    })
    .await;
    let (mut stream, head) = match opened {
        Ok(Ok(v)) => v,
        Ok(Err(_)) | Err(_) => {
            ctx.tally.add(Kind::Stream, 0);
            return Err(());
        }
    };
    if head.status != 200 {
        // A sign-in moved this user to a new token and signed the old one out
        // between our reading it and the server checking it.
        let stale = head.status == 401 && vu.token() != token;
        let kind = if stale {
            Kind::StreamStaleToken
        } else {
            Kind::Stream
        };
        ctx.tally.add(kind, head.status);
        return Err(());
    }
    ctx.tally.add(Kind::Stream, 200);
    ctx.user_slot(user, slot).opens += 1;
    ctx.open_streams.fetch_add(1, Ordering::Relaxed);
    let ended = read_stream(ctx, user, slot, rng, phase, storm, &mut stream, raw, head).await;
    ctx.open_streams.fetch_sub(1, Ordering::Relaxed);
    Ok(ended)
}

#[allow(clippy::too_many_arguments)]
async fn read_stream(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    rng: &mut Rng,
    phase: &mut watch::Receiver<Phase>,
    storm: &mut watch::Receiver<u64>,
    stream: &mut tokio::net::TcpStream,
    mut raw: Vec<u8>,
    head: wire::ResponseHead,
) -> Ended {
    raw.drain(..head.len);
    let mut dechunk = head.chunked.then(Dechunker::default);
    let mut events: Vec<u8> = Vec::new();
    let lifetime =
        STREAM_LIFETIME_SECS.0 + rng.below(STREAM_LIFETIME_SECS.1 - STREAM_LIFETIME_SECS.0 + 1);
    let churn_at = tokio::time::Instant::now() + Duration::from_secs(lifetime);
    // Highest seq seen on this connection: a resumed stream must go up by one each time.
    let mut last_seq_here: Option<u64> = None;
    storm.borrow_and_update();
    loop {
        // Decode and handle whatever is buffered.
        match dechunk.as_mut() {
            Some(d) => match d.decode(&raw, &mut events) {
                Ok(used) => {
                    raw.drain(..used);
                }
                Err(_) => return Ended::ByServer,
            },
            None => events.append(&mut raw),
        }
        let mut used = 0;
        let mut resynced = false;
        while let Some((block, len)) = wire::next_block(&events[used..]) {
            resynced |= on_event(
                ctx,
                user,
                slot,
                wire::parse_event(block),
                &mut last_seq_here,
            );
            used += len;
        }
        events.drain(..used);
        if resynced {
            refetch_after_resync(ctx, user, slot).await;
        }
        if dechunk.as_ref().is_some_and(Dechunker::is_done) {
            return Ended::ByServer;
        }

        let churning = *phase.borrow() == Phase::Load;
        let start = raw.len();
        raw.resize(start + READ_BUF, 0);
        tokio::select! {
            read = stream.read(&mut raw[start..]) => match read {
                Ok(0) | Err(_) => return Ended::ByServer,
                Ok(n) => raw.truncate(start + n),
            },
            _ = tokio::time::sleep_until(churn_at), if churning => return Ended::Churn,
            changed = storm.changed() => {
                raw.truncate(start);
                if changed.is_ok() && *phase.borrow() == Phase::Load && rng.chance(STORM_SHARE) {
                    return Ended::Storm;
                }
            }
            _ = phase.changed() => {
                raw.truncate(start);
                if *phase.borrow() == Phase::Stop {
                    return Ended::Stop;
                }
            }
        }
    }
}

/// Handles one event; true when it was a `resync`.
fn on_event(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    ev: SseEvent<'_>,
    last_seq_here: &mut Option<u64>,
) -> bool {
    match ev.event {
        "connected" | "ping" | "notification.read" | "progress" | "" => false,
        "resync" => {
            ctx.resyncs.fetch_add(1, Ordering::Relaxed);
            ctx.user_slot(user, slot).resyncs += 1;
            true
        }
        _ => {
            // A stored event (`notification` or an admin's own name): it carries `id:`.
            let Some(id) = ev.id else { return false };
            let parsed: Option<StoredEvent> = serde_json::from_str(&ev.data).ok();
            let seq = parsed
                .as_ref()
                .and_then(|p| p.seq)
                .or_else(|| id.trim().parse().ok())
                .filter(|s| *s > 0);
            let mut state = ctx.user_slot(user, slot);
            state.last_id = Some(id.to_string());
            let Some(seq) = seq else { return false };
            let seq = seq as u64;
            if last_seq_here.is_some_and(|prev| seq <= prev) {
                state.out_of_order += 1;
            }
            *last_seq_here = Some(last_seq_here.map_or(seq, |p| p.max(seq)));
            if !state.streamed.insert(seq) {
                state.duplicates += 1;
            }
            drop(state);
            if slot == 0 {
                if let Some(p) = parsed {
                    let mut recent = ctx.users[user]
                        .recent_ids
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    if recent.len() == RECENT_IDS {
                        recent.pop_front();
                    }
                    recent.push_back(p.id);
                }
            }
            false
        }
    }
}

/// What a client does on `resync`: reread the inbox back to where its own
/// record is complete, so the gap is filled from the store.
async fn refetch_after_resync(ctx: &Ctx, user: usize, slot: usize) {
    let floor = {
        let s = ctx.user_slot(user, slot);
        s.streamed.contiguous().max(s.recovered.contiguous())
    };
    let token = ctx.users[user].token();
    let mut conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    let mut before: Option<i64> = None;
    for _ in 0..200 {
        let path = match before {
            Some(b) => format!("/api/notifications?limit=100&before={b}"),
            None => "/api/notifications?limit=100".to_string(),
        };
        let Some(reply) = ctx
            .request(&mut conn, Kind::Refetch, "GET", &path, Some(&token), None)
            .await
        else {
            return;
        };
        let Ok(page) = serde_json::from_slice::<InboxPage>(&reply.body) else {
            return;
        };
        let mut state = ctx.user_slot(user, slot);
        for item in &page.items {
            if item.seq > 0 {
                state.recovered.insert(item.seq as u64);
            }
        }
        drop(state);
        let lowest = page.items.iter().map(|i| i.seq).min();
        match (page.next_before, lowest) {
            (Some(next), Some(low)) if low as u64 > floor + 1 => before = Some(next),
            _ => return,
        }
    }
}

/// The pace of one actor: `per_sec` ticks a second while the load lasts.
struct Pace {
    ticker: tokio::time::Interval,
    phase: watch::Receiver<Phase>,
    n: u64,
}

impl Pace {
    fn new(per_sec: f64, phase: &watch::Receiver<Phase>) -> Pace {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Pace {
            ticker,
            phase: phase.clone(),
            n: 0,
        }
    }

    /// Waits for the next tick; `None` once the load phase is over.
    async fn next(&mut self) -> Option<u64> {
        tokio::select! {
            _ = self.ticker.tick() => {}
            _ = self.phase.wait_for(|p| *p != Phase::Load) => return None,
        }
        if *self.phase.borrow() != Phase::Load {
            return None;
        }
        self.n += 1;
        Some(self.n - 1)
    }
}

fn random_user(ctx: &Ctx, rng: &mut Rng) -> Arc<Vu> {
    ctx.users[rng.below(ctx.users.len() as u64) as usize].clone()
}

fn spawn_actors(ctx: &Arc<Ctx>, phase: &watch::Receiver<Phase>, set: &mut JoinSet<()>) {
    const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

    let (c, mut pace) = (ctx.clone(), Pace::new(BROADCASTS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        while let Some(n) = pace.next().await {
            let body = json!({"event": "notification", "data": {
                "title": format!("soak broadcast {n}"),
                "body": "mixed-load soak test",
                "severity": SEVERITIES[(n % 3) as usize],
            }})
            .to_string();
            let path = "/api/sse/broadcast";
            match c
                .request(
                    &mut conn,
                    Kind::Broadcast,
                    "POST",
                    path,
                    Some(&c.admin_token),
                    Some(&body),
                )
                .await
            {
                Some(r) if r.status == 200 => {
                    c.broadcasts_ok.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
                None => {
                    c.publishes_unknown.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(SENDS_TO_USER_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(1);
        while let Some(n) = pace.next().await {
            let vu = random_user(&c, &mut rng);
            let event = if n % 2 == 0 {
                "notification"
            } else {
                "soak.direct"
            };
            let body = json!({"user_id": vu.id, "event": event, "data": {
                "title": format!("soak direct {n}"), "body": "for you", "link": "/"
            }})
            .to_string();
            let path = "/api/sse/send-to-user";
            match c
                .request(
                    &mut conn,
                    Kind::SendToUser,
                    "POST",
                    path,
                    Some(&c.admin_token),
                    Some(&body),
                )
                .await
            {
                Some(r) if r.status == 200 => {
                    vu.sends_ok.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
                None => {
                    c.publishes_unknown.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(MARK_READ_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(2);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let id = vu
                .recent_ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_back();
            if let Some(id) = id {
                let path = format!("/api/notifications/{id}/read");
                c.request(
                    &mut conn,
                    Kind::MarkRead,
                    "POST",
                    &path,
                    Some(&vu.token()),
                    None,
                )
                .await;
            }
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(READ_ALL_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(3);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let path = "/api/notifications/read-all";
            c.request(
                &mut conn,
                Kind::ReadAll,
                "POST",
                path,
                Some(&vu.token()),
                None,
            )
            .await;
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(INBOX_READS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(4);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let path = "/api/notifications?limit=20";
            c.request(&mut conn, Kind::Inbox, "GET", path, Some(&vu.token()), None)
                .await;
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(GOOD_SIGNINS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_GOOD_SIGNIN));
        let mut out = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(5);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let body = login_body(&vu.name, &c.password);
            let Some(reply) = c
                .request(
                    &mut conn,
                    Kind::SignIn,
                    "POST",
                    "/api/auth/login",
                    None,
                    Some(&body),
                )
                .await
            else {
                continue;
            };
            let Ok(signed_in) = serde_json::from_slice::<SignedIn>(&reply.body) else {
                continue;
            };
            // Move the user's streams to the new session, then end the old
            // one: the server closes its streams and they resume on the new token.
            let old = std::mem::replace(
                &mut *vu.token.lock().unwrap_or_else(|e| e.into_inner()),
                signed_in.token,
            );
            c.request(
                &mut out,
                Kind::SignOut,
                "POST",
                "/api/auth/logout",
                Some(&old),
                None,
            )
            .await;
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(BAD_SIGNINS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_BAD_SIGNIN));
        while let Some(n) = pace.next().await {
            let body = login_body(&c.decoy, &format!("not-the-password-{n}"));
            c.request(
                &mut conn,
                Kind::SignInBad,
                "POST",
                "/api/auth/login",
                None,
                Some(&body),
            )
            .await;
        }
    });
}

#[derive(Deserialize)]
struct Stats {
    data: StatsData,
}

#[derive(Deserialize)]
struct StatsData {
    total_clients: u64,
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// `200×1234 204×56 …` over all kinds.
fn by_status(tally: &BTreeMap<(Kind, u16), u64>) -> String {
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for ((_, status), n) in tally {
        *statuses.entry(*status).or_default() += n;
    }
    statuses
        .iter()
        .map(|(s, n)| format!("{}×{n}", status_label(*s)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// RSS readings over the run.
#[derive(Default)]
struct RssLog {
    start: Option<u64>,
    warm: Option<u64>,
    end_of_load: Option<u64>,
    peak: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    for ip in [SOURCE_MAIN, SOURCE_BAD_SIGNIN, SOURCE_GOOD_SIGNIN] {
        if let Err(e) = std::net::UdpSocket::bind((ip, 0)) {
            eprintln!("soak: cannot bind source address {ip}: {e}");
            return ExitCode::FAILURE;
        }
    }
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let duration = args.duration;
    let warmup = WARMUP_MAX.min(duration / 6);
    let storm_period = STORM_PERIOD_MAX.min(duration / 4);
    let slots_total: usize = (0..args.users)
        .map(|u| 1 + usize::from(u % SECOND_STREAM_EVERY == 0))
        .sum();

    println!("# Herald soak test");
    println!();
    println!(
        "server {} (pid {}), load for {} s, then up to {} s of drain",
        args.server,
        args.server_pid,
        duration.as_secs(),
        DRAIN_LIMIT.as_secs()
    );
    println!(
        "users: {} ({}1..{}{}), {} streams (a second one for every {}th user); decoy account {}",
        args.users,
        args.user_prefix,
        args.user_prefix,
        args.users,
        slots_total,
        SECOND_STREAM_EVERY,
        args.decoy
    );
    println!("mix: broadcasts {BROADCASTS_PER_SEC}/s · send-to-user {SENDS_TO_USER_PER_SEC}/s · mark-read {MARK_READ_PER_SEC}/s · read-all {READ_ALL_PER_SEC}/s · inbox reads {INBOX_READS_PER_SEC}/s · good sign-ins (+ sign-out of the old session) {GOOD_SIGNINS_PER_SEC}/s · bad sign-ins {BAD_SIGNINS_PER_SEC}/s");
    println!("streams: churn every {}–{} s (reopen after 0–{} ms, resuming: Last-Event-ID header or ?last_event_id=); storms drop {:.0}% of streams every {} s, first at {} s",
        STREAM_LIFETIME_SECS.0, STREAM_LIFETIME_SECS.1, REOPEN_PAUSE_MS, STORM_SHARE * 100.0, storm_period.as_secs(), (storm_period / 2).as_secs());
    let scaled = if warmup < WARMUP_MAX {
        " (scaled for a short run: min(300 s, duration/6))".to_string()
    } else {
        String::new()
    };
    println!("memory: RSS at the end must be ≤ {RSS_GROWTH_LIMIT} × RSS at the warm-up point, t = {} s{scaled}", warmup.as_secs());
    println!();

    // Setup: sign everyone in (a few at a time: each is an argon2 hash).
    let tally = Tally::default();
    let admin = setup_sign_in(&tally, args.server, &args.admin, &args.password).await?;
    let gate = Arc::new(Semaphore::new(4));
    let mut signins = JoinSet::new();
    for u in 1..=args.users {
        let name = format!("{}{u}", args.user_prefix);
        let (gate, server, password) = (gate.clone(), args.server, args.password.clone());
        signins.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let local = Tally::default();
            let signed = setup_sign_in(&local, server, &name, &password).await;
            Ok::<_, String>((u, name, signed, local.snapshot()))
        });
    }
    let mut users: Vec<Option<Vu>> = (0..args.users).map(|_| None).collect();
    while let Some(done) = signins.join_next().await {
        let (u, name, signed, local) = done.map_err(|e| e.to_string())??;
        for ((kind, status), n) in local {
            for _ in 0..n {
                tally.add(kind, status);
            }
        }
        let signed = signed?;
        let slots = 1 + usize::from((u - 1) % SECOND_STREAM_EVERY == 0);
        users[u - 1] = Some(Vu {
            name,
            id: signed.user.id,
            token: Mutex::new(signed.token),
            recent_ids: Mutex::default(),
            slots: (0..slots).map(|_| Mutex::default()).collect(),
            sends_ok: AtomicU64::new(0),
        });
    }
    let users: Vec<Arc<Vu>> = users
        .into_iter()
        .map(|u| Arc::new(u.expect("every user signed in")))
        .collect();

    let ctx = Arc::new(Ctx {
        server: args.server,
        users,
        admin_token: admin.token,
        password: args.password.clone(),
        decoy: args.decoy.clone(),
        tally,
        open_streams: AtomicUsize::new(0),
        broadcasts_ok: AtomicU64::new(0),
        publishes_unknown: AtomicU64::new(0),
        resyncs: AtomicU64::new(0),
        closed_by_server: AtomicU64::new(0),
        storms: AtomicU64::new(0),
    });
    let pid = args.server_pid;
    let mut rss = RssLog {
        start: procfs::rss_kb(pid),
        ..RssLog::default()
    };
    let (phase_tx, phase_rx) = watch::channel(Phase::Load);
    let (storm_tx, storm_rx) = watch::channel(0u64);

    // Streams, opened over the first few seconds.
    let mut slots = JoinSet::new();
    let mut k = 0u64;
    for (u, vu) in ctx.users.iter().enumerate() {
        for s in 0..vu.slots.len() {
            let delay = Duration::from_millis(10 * k);
            k += 1;
            slots.spawn(run_slot(
                ctx.clone(),
                u,
                s,
                phase_rx.clone(),
                storm_rx.clone(),
                delay,
            ));
        }
    }
    let mut actors = JoinSet::new();
    spawn_actors(&ctx, &phase_rx, &mut actors);

    // The clock of the run: reports, storms, the warm-up reading.
    println!(
        "| elapsed | Herald RSS | open streams (client / server) | requests so far, by status |"
    );
    println!(
        "|--------:|-----------:|-------------------------------:|----------------------------|"
    );
    let start = tokio::time::Instant::now();
    let end = start + duration;
    let mut next_report = start + REPORT_EVERY;
    let mut next_storm = start + storm_period / 2;
    let warm_at = start + warmup;
    let mut stats_conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    loop {
        let now = tokio::time::Instant::now();
        if now >= end {
            break;
        }
        let mut wake = end.min(next_report).min(next_storm);
        if rss.warm.is_none() {
            wake = wake.min(warm_at);
        }
        tokio::time::sleep_until(wake).await;
        let now = tokio::time::Instant::now();
        let reading = procfs::rss_kb(pid);
        if let Some(kb) = reading {
            rss.peak = rss.peak.max(kb);
        } else {
            return Err(format!("Herald (pid {pid}) is gone"));
        }
        if rss.warm.is_none() && now >= warm_at {
            rss.warm = reading;
        }
        if now >= next_storm && now < end {
            let n = ctx.storms.fetch_add(1, Ordering::Relaxed) + 1;
            println!("|  {:>5.0}s | storm {n}: ~{:.0}% of {} open streams dropped and reopened at once | | |", now.duration_since(start).as_secs_f64(), STORM_SHARE * 100.0, ctx.open_streams.load(Ordering::Relaxed));
            storm_tx.send_replace(n);
            next_storm += storm_period;
        }
        if now >= next_report {
            let server = ctx
                .request(
                    &mut stats_conn,
                    Kind::Stats,
                    "GET",
                    "/api/sse/stats",
                    Some(&ctx.admin_token),
                    None,
                )
                .await
                .and_then(|r| serde_json::from_slice::<Stats>(&r.body).ok())
                .map_or("?".to_string(), |s| s.data.total_clients.to_string());
            println!(
                "| {:>6.0}s | {:>6.1} MiB | {:>14} / {:<14} | {} |",
                now.duration_since(start).as_secs_f64(),
                mib(reading.unwrap_or(0)),
                ctx.open_streams.load(Ordering::Relaxed),
                server,
                by_status(&ctx.tally.snapshot())
            );
            next_report += REPORT_EVERY;
        }
    }
    rss.end_of_load = procfs::rss_kb(pid);
    let load_secs = start.elapsed().as_secs_f64();

    // Drain: no more publishing or churn; streams stay open and catch up.
    phase_tx.send_replace(Phase::Drain);
    while actors.join_next().await.is_some() {}
    let broadcasts_ok = ctx.broadcasts_ok.load(Ordering::Relaxed);
    let expected_of = |vu: &Vu| broadcasts_ok + vu.sends_ok.load(Ordering::Relaxed);
    let drain_start = tokio::time::Instant::now();
    let caught_up = |ctx: &Ctx| {
        ctx.users.iter().all(|vu| {
            let expected = expected_of(vu);
            vu.slots.iter().all(|s| {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                (1..=expected).all(|q| s.streamed.contains(q) || s.recovered.contains(q))
            })
        })
    };
    while !caught_up(&ctx) && drain_start.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drain_secs = drain_start.elapsed().as_secs_f64();
    let rss_after_drain = procfs::rss_kb(pid);

    // Final check against the store: each user's newest seq.
    let mut check_conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    let mut server_last: Vec<Option<u64>> = Vec::with_capacity(ctx.users.len());
    for vu in &ctx.users {
        let last = ctx
            .request(
                &mut check_conn,
                Kind::FinalCheck,
                "GET",
                "/api/notifications?limit=1",
                Some(&vu.token()),
                None,
            )
            .await
            .filter(|r| r.status == 200)
            .and_then(|r| serde_json::from_slice::<InboxPage>(&r.body).ok())
            .map(|p| p.items.first().map_or(0, |i| i.seq.max(0) as u64));
        server_last.push(last);
    }
    phase_tx.send_replace(Phase::Stop);
    while slots.join_next().await.is_some() {}

    // Loss accounting.
    let mut lost = 0u64;
    let mut lost_samples: Vec<String> = Vec::new();
    let (mut delivered_expected, mut streamed, mut recovered_only) = (0u64, 0u64, 0u64);
    let (mut duplicates, mut out_of_order, mut opens) = (0u64, 0u64, 0u64);
    let mut store_mismatch: Vec<String> = Vec::new();
    let mut unchecked = 0usize;
    for (vu, last) in ctx.users.iter().zip(&server_last) {
        let expected = expected_of(vu);
        let Some(last) = *last else {
            unchecked += 1;
            continue;
        };
        if last != expected {
            store_mismatch.push(format!(
                "{}: {expected} accepted, newest seq in the inbox {last}",
                vu.name
            ));
        }
        let range = expected.max(last);
        for (i, slot) in vu.slots.iter().enumerate() {
            let s = slot.lock().unwrap_or_else(|e| e.into_inner());
            duplicates += s.duplicates;
            out_of_order += s.out_of_order;
            opens += s.opens;
            delivered_expected += range;
            let mut missing = Vec::new();
            for q in 1..=range {
                if s.streamed.contains(q) {
                    streamed += 1;
                } else if s.recovered.contains(q) {
                    recovered_only += 1;
                } else {
                    missing.push(q);
                }
            }
            lost += missing.len() as u64;
            if !missing.is_empty() && lost_samples.len() < 10 {
                let shown: Vec<String> = missing.iter().take(8).map(u64::to_string).collect();
                lost_samples.push(format!(
                    "{} stream {i}: missing seq {}{}",
                    vu.name,
                    shown.join(","),
                    if missing.len() > 8 { ",…" } else { "" }
                ));
            }
        }
    }

    // Report.
    println!();
    println!(
        "load ran {load_secs:.0} s; drain took {drain_secs:.1} s (limit {} s); storms: {}",
        DRAIN_LIMIT.as_secs(),
        ctx.storms.load(Ordering::Relaxed)
    );
    println!();
    println!("## Memory (Herald VmRSS)");
    println!();
    let fmt = |v: Option<u64>| v.map_or("n/a".to_string(), |kb| format!("{:.1} MiB", mib(kb)));
    println!(
        "| at start | at warm-up (t = {} s) | at end of load | after drain | peak |",
        warmup.as_secs()
    );
    println!("|---------:|---------------------:|---------------:|------------:|-----:|");
    println!(
        "| {} | {} | {} | {} | {} |",
        fmt(rss.start),
        fmt(rss.warm),
        fmt(rss.end_of_load),
        fmt(rss_after_drain),
        fmt(Some(rss.peak))
    );
    let rss_ratio = match (rss.warm, rss.end_of_load) {
        (Some(w), Some(e)) if w > 0 => Some(e as f64 / w as f64),
        _ => None,
    };
    let rss_ok = rss_ratio.is_some_and(|r| r <= RSS_GROWTH_LIMIT);
    println!();
    println!(
        "end / warm-up = {} (limit {RSS_GROWTH_LIMIT}): {}",
        rss_ratio.map_or("n/a".into(), |r| format!("{r:.3}")),
        if rss_ok { "flat" } else { "FAIL" }
    );

    println!();
    println!("## Requests by kind and status");
    println!();
    println!("| request | status | count | |");
    println!("|---------|-------:|------:|-|");
    let tally = ctx.tally.snapshot();
    let mut unexpected = 0u64;
    let mut unexpected_5xx = 0u64;
    for ((kind, status), n) in &tally {
        let ok = kind.expects(*status);
        if !ok {
            unexpected += n;
            if *status >= 500 {
                unexpected_5xx += n;
            }
        }
        let note = match (ok, *status) {
            (true, 401 | 429) => "expected refusal",
            (true, _) => "ok",
            (false, s) if s >= 500 => "UNEXPECTED 5xx",
            (false, _) => "unexpected",
        };
        println!(
            "| {} | {} | {n} | {note} |",
            kind.name(),
            status_label(*status)
        );
    }
    println!();
    println!("unexpected answers: {unexpected} (5xx: {unexpected_5xx})");

    println!();
    println!("## Notifications");
    println!();
    println!("| accepted broadcasts | accepted send-to-user | publishes without an answer | stream opens | closed by the server | expected deliveries (per stream) | received on a stream | recovered after resync | resyncs | duplicates | out of order | LOST |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let sends_ok: u64 = ctx
        .users
        .iter()
        .map(|v| v.sends_ok.load(Ordering::Relaxed))
        .sum();
    println!(
        "| {broadcasts_ok} | {sends_ok} | {} | {opens} | {} | {delivered_expected} | {streamed} | {recovered_only} | {} | {duplicates} | {out_of_order} | {lost} |",
        ctx.publishes_unknown.load(Ordering::Relaxed),
        ctx.closed_by_server.load(Ordering::Relaxed),
        ctx.resyncs.load(Ordering::Relaxed)
    );
    for s in &lost_samples {
        println!("  {s}");
    }
    for s in store_mismatch.iter().take(10) {
        println!("  store mismatch: {s}");
    }
    if unchecked > 0 {
        println!("  {unchecked} users could not be checked (their inbox did not answer)");
    }

    let mut failures = Vec::new();
    if lost > 0 {
        failures.push(format!("{lost} notifications lost"));
    }
    if unexpected_5xx > 0 {
        failures.push(format!("{unexpected_5xx} unexpected 5xx answers"));
    }
    if !rss_ok {
        failures.push("RSS grew past the limit after warm-up (or could not be read)".to_string());
    }
    if unchecked > 0 {
        failures.push(format!("{unchecked} users could not be checked"));
    }
    println!();
    if failures.is_empty() {
        println!("PASS: 0 lost, no unexpected 5xx, RSS flat after warm-up");
        Ok(true)
    } else {
        println!("FAIL: {}", failures.join("; "));
        Ok(false)
    }
}
