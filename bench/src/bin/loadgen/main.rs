//! `loadgen`: opens N SSE subscribers against Herald or the baseline server,
//! publishes broadcasts, and measures what arrives. Three modes, one per
//! table of `make bench` (see `bench/README.md`):
//!
//! - `fanout` (table 3): M messages open loop at R msg/s, then optionally a
//!   ramp of short steps at rising rates until one is not sustained;
//! - `throughput` (table 2): P closed-loop publishers for D seconds;
//! - `storm` (table 4): publishing at R msg/s, every socket closed at once,
//!   then reopened at once with `Last-Event-ID`; time to reconnect and catch
//!   up, lost and duplicated notifications across it.
//!
//! Every mode first opens every stream (bounded concurrency) and reads the
//! server's resident memory before and after; every subscriber timestamps
//! each message against the instant the publisher recorded just before
//! sending it (one process, one monotonic clock).
//!
//! Run `loadgen --help` for the flags.

mod args;
mod publish;
mod shared;
mod stream;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    ops::Range,
    process::ExitCode,
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use herald_bench::{cli, procfs, stats::Summary};
use serde_json::{json, Value};
use tokio::{
    sync::{watch, Semaphore},
    task::JoinSet,
};

pub use args::Target;
use args::{Args, Mode, STORM_TAIL};
use publish::{PubConfig, Published};
use shared::{secs, RangeFigures, Shared};
use stream::{Phase, SubConfig, SubResult};

/// File descriptors the process needs besides its subscribers (runtime,
/// publishers, stdio, /proc readings).
const SPARE_FDS: u64 = 100;

/// CPU seconds used so far: the server's (every instance's), the
/// database's (if watched), this process's, the machine's.
#[derive(Clone, Copy)]
struct CpuMark {
    server: Option<f64>,
    db: Option<f64>,
    own: Option<f64>,
    machine: Option<f64>,
}

/// CPU used between two marks.
struct CpuSpent {
    server: Option<f64>,
    /// The database and its backends (`--db-pid`), if watched.
    db: Option<f64>,
    loadgen: Option<f64>,
    /// Everything else on the machine (e.g. a compiler): anything well above
    /// zero means the figures were skewed. Kernel interrupt work not charged
    /// to either process lands here too, so it is never quite 0.
    other: Option<f64>,
}

impl CpuMark {
    fn now(pids: &Pids) -> CpuMark {
        CpuMark {
            server: pids.sum(procfs::cpu_secs),
            db: pids.db.and_then(procfs::tree_cpu_secs),
            own: procfs::cpu_secs(std::process::id()),
            machine: procfs::machine_busy_secs(),
        }
    }

    fn until(self, later: CpuMark) -> CpuSpent {
        let d = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        let (server, db, loadgen, machine) = (
            d(self.server, later.server),
            d(self.db, later.db),
            d(self.own, later.own),
            d(self.machine, later.machine),
        );
        CpuSpent {
            server,
            db,
            loadgen,
            other: match (machine, server, loadgen) {
                (Some(m), Some(s), Some(l)) => Some((m - s - l - db.unwrap_or(0.0)).max(0.0)),
                _ => None,
            },
        }
    }
}

/// The processes measured: the server's (one per instance) and the database.
struct Pids {
    servers: Vec<u32>,
    db: Option<u32>,
}

impl Pids {
    /// `read` summed over the server processes; `None` without any, or if
    /// one cannot be read.
    fn sum<T: std::iter::Sum<T>>(&self, read: fn(u32) -> Option<T>) -> Option<T> {
        if self.servers.is_empty() {
            return None;
        }
        self.servers.iter().map(|&p| read(p)).sum()
    }

    fn rss_kb(&self) -> Option<u64> {
        self.sum(procfs::rss_kb)
    }
}

/// Waits for the servers' RSS to settle (two readings 500 ms apart within
/// 1%, at most ~5 s), then returns it.
async fn settled_rss(pids: &Pids) -> Option<u64> {
    let mut last = pids.rss_kb()?;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = pids.rss_kb()?;
        if now.abs_diff(last) * 100 <= last {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

/// `127.0.0.1:3202`, or `127.0.0.1:3211,127.0.0.1:3212,…` for a cluster.
fn servers_text(servers: &[SocketAddr]) -> String {
    servers
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.2} ms"))
}

fn fmt_num(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

/// Streams still open.
fn live(shared: &Shared) -> u64 {
    let open =
        shared.established.load(Ordering::Relaxed) + shared.reconnected.load(Ordering::Relaxed);
    let gone = shared.dropped.load(Ordering::Relaxed) + shared.closed.load(Ordering::Relaxed);
    open.saturating_sub(gone) as u64
}

/// Waits until every live stream has every accepted message of `range`, or
/// `timeout`; returns the seconds waited.
async fn drain(shared: &Shared, range: Range<usize>, timeout: Duration) -> f64 {
    let start = Instant::now();
    loop {
        let accepted = range
            .clone()
            .filter(|&i| {
                let a = shared.answered[i].load(Ordering::Relaxed);
                a != 0 && a != shared::FAILED
            })
            .count() as u64;
        if shared.delivered_in(range.clone()) >= live(shared) * accepted
            || start.elapsed() >= timeout
        {
            return start.elapsed().as_secs_f64();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn range_json(f: &RangeFigures) -> Value {
    json!({
        "sent": f.sent,
        "accepted": f.accepted,
        "send_rate": f.send_rate,
        "accepted_per_sec": f.accepted_per_sec,
        "deliveries": f.deliveries,
        "deliveries_per_sec": f.deliveries_per_sec,
        "delivery_window_s": f.window_s,
        "last_subscriber_p50_ms": f.last_sub.p50_ms,
        "last_subscriber_p99_ms": f.last_sub.p99_ms,
        "last_subscriber_max_ms": f.last_sub.max_ms,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse_checked();
    let fd_limit = match cli::raise_fd_limit() {
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
        if let Err(e) = cli::check_source_ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, k))) {
            eprintln!("loadgen: {e} (lower --source-ips)");
            return ExitCode::FAILURE;
        }
    }
    cli::exit_status("loadgen", run(args).await)
}

/// Opens every stream, runs the mode, prints and writes the results;
/// `Ok(false)` when the run completed but something failed (lost messages,
/// failed streams, ...).
async fn run(args: Args) -> Result<bool, String> {
    let target = args.target.name();
    eprintln!(
        "loadgen: {} mode, {target} at {} — {} subscribers, {} source IPs",
        args.mode.name(),
        servers_text(&args.servers),
        args.subscribers,
        args.source_ips
    );
    let timed = match args.mode {
        Mode::Fanout => args.messages(),
        Mode::Throughput => args.capacity(),
        Mode::Storm => 0,
    };
    let shared = Arc::new(Shared::new(args.capacity(), timed));
    let pids = Pids {
        servers: args.server_pids.clone(),
        db: args.db_pid,
    };
    let pid = &pids;
    let rss_before = pids.rss_kb();
    let cpu_start = CpuMark::now(pid);

    // Phase 1: open every stream.
    let cfg = Arc::new(SubConfig {
        target: args.target,
        servers: args.servers.clone(),
        source_ips: args.source_ips,
        tokens: args.tokens.clone(),
        connect_timeout: args.connect_timeout,
    });
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let reconnect_gate = (args.reconnect_concurrency > 0)
        .then(|| Arc::new(Semaphore::new(args.reconnect_concurrency)));
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let connect_start = shared.now_ns();
    let mut tasks = JoinSet::new();
    for i in 0..args.subscribers {
        tasks.spawn(stream::subscriber(
            i,
            cfg.clone(),
            shared.clone(),
            gate.clone(),
            reconnect_gate.clone(),
            phase_rx.clone(),
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
    let cpu_connected = CpuMark::now(pid);
    let rss_after = settled_rss(pid).await;
    eprintln!("loadgen: {established} streams established in {connect_s:.2} s");

    let pub_cfg = Arc::new(PubConfig {
        target: args.target,
        servers: args.servers.clone(),
        admin_token: args.admin_token.clone(),
        padded: args.padded,
    });
    let cpu_publish = CpuMark::now(pid);
    // Fanout with a ramp: the resyncs before its first broken step.
    let mut resyncs_outside_broken_steps: Option<u64> = None;
    let mut out = json!({});
    let mut text: Vec<String> = Vec::new();
    let mut ok = true;
    let (mut published, headline): (Published, RangeFigures) = match args.mode {
        Mode::Fanout => {
            eprintln!(
                "loadgen: publishing {} messages at {} msg/s…",
                args.messages(),
                args.rate
            );
            let published = publish::open_loop(
                pub_cfg.clone(),
                shared.clone(),
                args.rate,
                Some(args.messages()),
                None,
            )
            .await;
            let range = published.first..published.end;
            let drained_s = drain(&shared, range.clone(), args.drain_timeout).await;
            let f = shared.range_figures(range);
            text.push(format!(
                "messages                {} at {} msg/s, sends achieved {} msg/s; drained {drained_s:.2} s after the last answer",
                args.messages(),
                args.rate,
                fmt_num(f.send_rate, 2)
            ));
            out["messages"] = json!(args.messages());
            out["rate"] = json!(args.rate);
            out["achieved_rate"] = json!(f.send_rate);
            let cpu = cpu_publish.until(CpuMark::now(pid));
            out["server_cpu_publish_s"] = json!(cpu.server);
            out["db_cpu_publish_s"] = json!(cpu.db);
            out["loadgen_cpu_publish_s"] = json!(cpu.loadgen);
            out["other_cpu_publish_s"] = json!(cpu.other);
            out["rss_after_publish_kb"] = json!(pids.rss_kb());

            // The ramp: short steps at rising rates, until one is not sustained.
            // Past the breaking point a `resync` is the server's documented
            // answer (its queues overflowed); before it, a failure.
            resyncs_outside_broken_steps = Some(shared.resyncs.load(Ordering::Relaxed));
            let mut steps = Vec::new();
            let mut highest: Option<f64> = None;
            for &rate in &args.ramp {
                let n = (rate * args.step_secs).ceil() as usize;
                eprintln!("loadgen: ramp step {rate} msg/s ({n} messages)…");
                let live_streams = live(&shared);
                let resyncs_at = shared.resyncs.load(Ordering::Relaxed);
                let cpu_step = CpuMark::now(pid);
                let step =
                    publish::open_loop(pub_cfg.clone(), shared.clone(), rate, Some(n), None).await;
                let range = step.first..step.end;
                drain(&shared, range.clone(), args.drain_timeout).await;
                let cpu = cpu_step.until(CpuMark::now(pid));
                let f = shared.range_figures(range);
                let shortfall = (live_streams * f.accepted as u64).saturating_sub(f.deliveries);
                let step_resyncs = shared.resyncs.load(Ordering::Relaxed) - resyncs_at;
                let sustained = f.sent == n
                    && step_resyncs == 0
                    && step.errors.is_empty()
                    && shortfall == 0
                    && f.send_rate.is_some_and(|r| r >= 0.95 * rate)
                    && f.last_sub.p99_ms.is_some_and(|p| p <= args.ramp_p99_ms);
                text.push(format!(
                    "ramp {rate:>6} msg/s      sends {} msg/s, deliveries/s {}, last subscriber p50 {} p99 {}, \
                     publish errors {}, undelivered {shortfall}, resyncs {step_resyncs}, server CPU {}{} → {}",
                    fmt_num(f.send_rate, 1),
                    fmt_num(f.deliveries_per_sec, 0),
                    fmt_ms(f.last_sub.p50_ms),
                    fmt_ms(f.last_sub.p99_ms),
                    step.errors.len(),
                    fmt_num(cpu.server, 2),
                    cpu.db.map_or(String::new(), |d| format!(", database CPU {d:.2}")),
                    if sustained { "sustained" } else { "NOT sustained" }
                ));
                let mut j = range_json(&f);
                j["rate"] = json!(rate);
                j["messages"] = json!(n);
                j["publish_errors"] = json!(step.errors.len());
                j["undelivered"] = json!(shortfall);
                j["resyncs"] = json!(step_resyncs);
                j["server_cpu_s"] = json!(cpu.server);
                j["db_cpu_s"] = json!(cpu.db);
                j["sustained"] = json!(sustained);
                steps.push(j);
                if !sustained {
                    break;
                }
                if let Some(r) = resyncs_outside_broken_steps.as_mut() {
                    *r += step_resyncs;
                }
                highest = Some(rate);
            }
            if !args.ramp.is_empty() {
                out["ramp"] = json!(steps);
                out["ramp_step_secs"] = json!(args.step_secs);
                out["ramp_p99_ms"] = json!(args.ramp_p99_ms);
                out["ramp_highest_sustained"] = json!(highest);
                out["ramp_broke"] = json!(
                    steps.len() < args.ramp.len()
                        || steps.last().is_some_and(|s| s["sustained"] == json!(false))
                );
            }
            (published, f)
        }
        Mode::Throughput => {
            eprintln!(
                "loadgen: {} closed-loop publishers for {:.0} s…",
                args.publishers,
                args.duration.as_secs_f64()
            );
            let published = publish::closed_loop(
                pub_cfg.clone(),
                shared.clone(),
                args.publishers,
                args.duration,
            )
            .await;
            let range = published.first..published.end;
            let drained_s = drain(&shared, range.clone(), args.drain_timeout).await;
            let f = shared.range_figures(range);
            let cpu = cpu_publish.until(CpuMark::now(pid));
            text.push(format!(
                "publishing              {} closed-loop publishers, {:.0} s: {} accepted ({} /s), {} errors; drained {drained_s:.2} s after",
                args.publishers,
                args.duration.as_secs_f64(),
                f.accepted,
                fmt_num(f.accepted_per_sec, 1),
                published.errors.len()
            ));
            if published.end >= shared.capacity {
                text.push(format!(
                    "note: stopped at the --messages bound ({})",
                    shared.capacity
                ));
                ok = false;
            }
            out["publishers"] = json!(args.publishers);
            out["duration_s"] = json!(args.duration.as_secs_f64());
            out["accepted"] = json!(f.accepted);
            out["accepted_per_sec"] = json!(f.accepted_per_sec);
            out["server_cpu_publish_s"] = json!(cpu.server);
            out["db_cpu_publish_s"] = json!(cpu.db);
            out["loadgen_cpu_publish_s"] = json!(cpu.loadgen);
            out["other_cpu_publish_s"] = json!(cpu.other);
            out["rss_after_publish_kb"] = json!(pids.rss_kb());
            (published, f)
        }
        Mode::Storm => {
            let (stop_tx, stop_rx) = watch::channel(false);
            let publisher = tokio::spawn(publish::open_loop(
                pub_cfg.clone(),
                shared.clone(),
                args.rate,
                None,
                Some(stop_rx),
            ));
            eprintln!(
                "loadgen: publishing at {} msg/s; the storm in {:.1} s…",
                args.rate,
                args.warmup.as_secs_f64()
            );
            tokio::time::sleep(args.warmup).await;
            let open_before = live(&shared) as usize;
            let dropped_before = shared.dropped.load(Ordering::Relaxed);
            let close_at = Instant::now();
            let close_ns = shared.now_ns();
            let _ = phase_tx.send(Phase::Close);
            while shared.closed.load(Ordering::Relaxed) < open_before
                && close_at.elapsed() < Duration::from_secs(10)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let closed = shared.closed.load(Ordering::Relaxed);
            let close_s = close_at.elapsed().as_secs_f64();
            tokio::time::sleep(args.storm_gap).await;
            // Caught up = has every message answered before the reopen (of
            // those owed to it): the contiguous answered prefix.
            let mut to = 0;
            while to < shared.capacity && shared.answered[to].load(Ordering::Acquire) != 0 {
                to += 1;
            }
            shared.catch_up_to.store(to, Ordering::Release);
            let missed = (0..to)
                .filter(|&i| shared.sent_at[i].load(Ordering::Relaxed) >= close_ns)
                .count();
            let cpu_reopen = CpuMark::now(pid);
            let reopen_ns = shared.now_ns();
            eprintln!("loadgen: {closed} streams closed in {close_s:.3} s; reopening them all…");
            let _ = phase_tx.send(Phase::Reopen);
            let deadline = Instant::now() + args.storm_timeout;
            let mut last_report = Instant::now();
            loop {
                let rec = shared.reconnected.load(Ordering::Relaxed);
                let caught = shared.caught_up.load(Ordering::Relaxed);
                let failed = shared.reconnect_failed.load(Ordering::Relaxed);
                if (rec + failed >= closed && caught + failed >= closed)
                    || Instant::now() >= deadline
                {
                    break;
                }
                if last_report.elapsed() >= Duration::from_secs(2) {
                    eprintln!("loadgen: {rec} reconnected, {caught} caught up, {failed} failed…");
                    last_report = Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let cpu = cpu_reopen.until(CpuMark::now(pid));
            let since = |ns: u64| (ns > reopen_ns).then(|| secs(ns - reopen_ns));
            let reconnected = shared.reconnected.load(Ordering::Relaxed);
            let replayed = shared.replayed.load(Ordering::Relaxed);
            let caught_up = shared.caught_up.load(Ordering::Relaxed);
            let reconnect_failed = shared.reconnect_failed.load(Ordering::Relaxed);
            let reconnect_s = since(shared.last_reconnected.load(Ordering::Relaxed));
            let catch_up_s = since(shared.last_caught_up.load(Ordering::Relaxed));
            tokio::time::sleep(STORM_TAIL).await;
            let _ = stop_tx.send(true);
            let published = publisher.await.map_err(|e| format!("publisher: {e}"))?;
            // Wait for what was published once every stream was back.
            let back = shared.last_reconnected.load(Ordering::Relaxed);
            let tail = (to..published.end)
                .find(|&i| shared.sent_at[i].load(Ordering::Relaxed) > back)
                .unwrap_or(published.end)..published.end;
            let drained_s = drain(&shared, tail.clone(), args.drain_timeout).await;
            let f = shared.range_figures(published.first..published.end);
            // What the baseline's figure is made of too (it replays nothing):
            // messages published once every stream was back.
            let after = shared.range_figures(tail);
            let pending = closed.saturating_sub(reconnected + reconnect_failed);
            text.push(format!(
                "storm                   {closed} of {open_before} open streams closed in {close_s:.3} s, reopened after {:.1} s \
                 with Last-Event-ID (baseline: ignored)",
                args.storm_gap.as_secs_f64()
            ));
            text.push(format!(
                "reconnected             {reconnected} in {} s (failed {reconnect_failed}, still pending {pending}); \
                 caught up {caught_up} in {} s; {missed} messages published while the streams were closed; \
                 {replayed} notifications replayed (published before their stream's `connected`)",
                fmt_num(reconnect_s, 2),
                fmt_num(catch_up_s, 2),
            ));
            text.push(format!(
                "publishing              {} messages at {} msg/s, sends achieved {} msg/s, {} errors; drained {drained_s:.2} s",
                f.sent,
                args.rate,
                fmt_num(f.send_rate, 2),
                published.errors.len()
            ));
            text.push(format!(
                "server CPU, reopening   {} s (loadgen {} s, rest of the machine {} s)",
                fmt_num(cpu.server, 2),
                fmt_num(cpu.loadgen, 2),
                fmt_num(cpu.other, 2)
            ));
            out["rate"] = json!(args.rate);
            out["achieved_rate"] = json!(f.send_rate);
            out["warmup_s"] = json!(args.warmup.as_secs_f64());
            out["storm_gap_s"] = json!(args.storm_gap.as_secs_f64());
            out["reconnect_concurrency"] = json!(args.reconnect_concurrency);
            out["open_before_storm"] = json!(open_before);
            out["dropped_before_storm"] = json!(dropped_before);
            out["closed"] = json!(closed);
            out["missed_while_closed"] = json!(missed);
            out["replayed"] = json!(replayed);
            out["after_storm_messages"] = json!(after.accepted);
            out["after_storm_last_subscriber_p99_ms"] = json!(after.last_sub.p99_ms);
            out["close_s"] = json!(close_s);
            out["reconnected"] = json!(reconnected);
            out["reconnect_failed"] = json!(reconnect_failed);
            out["reconnect_pending"] = json!(pending);
            out["caught_up"] = json!(caught_up);
            out["time_to_reconnect_s"] = json!(reconnect_s);
            out["time_to_catch_up_s"] = json!(catch_up_s);
            out["server_cpu_reopen_s"] = json!(cpu.server);
            out["loadgen_cpu_reopen_s"] = json!(cpu.loadgen);
            out["other_cpu_reopen_s"] = json!(cpu.other);
            out["messages"] = json!(f.sent);
            ok &= reconnected == closed && caught_up == closed && closed == open_before;
            (published, f)
        }
    };

    // Stop every subscriber; each checks its own stream against everything published.
    let _ = phase_tx.send(Phase::Stop);
    let loadgen_rss = procfs::rss_kb(std::process::id());
    let mut results: Vec<SubResult> = Vec::with_capacity(args.subscribers);
    let collect = async {
        while let Some(res) = tasks.join_next().await {
            if let Ok(r) = res {
                results.push(r);
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .is_err()
    {
        eprintln!("loadgen: some subscribers did not stop within 60 s; their figures are missing");
        ok = false;
    }
    let owed: u64 = results.iter().map(|r| r.owed).sum();
    let lost: u64 = results.iter().map(|r| r.lost).sum();
    let lost_after_resync: u64 = results.iter().map(|r| r.lost_after_resync).sum();
    let mut latencies: Vec<u32> = results
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.latencies_us))
        .collect();
    let latency = Summary::of_micros(&mut latencies);
    drop(latencies);

    // Figures common to every mode.
    let received = shared.received.load(Ordering::Relaxed);
    let duplicates = shared.duplicates.load(Ordering::Relaxed);
    let wire_dups = shared.wire_dups.load(Ordering::Relaxed);
    let wire_gaps = shared.wire_gaps.load(Ordering::Relaxed);
    let resyncs = shared.resyncs.load(Ordering::Relaxed);
    let resynced_streams = shared.resynced_streams.load(Ordering::Relaxed);
    let dropped = shared.dropped.load(Ordering::Relaxed);
    let failed = shared.failed.load(Ordering::Relaxed);
    let foreign = shared.foreign.load(Ordering::Relaxed);
    let bytes_read = shared.bytes_read.load(Ordering::Relaxed);
    let bytes_per_delivery = (received > 0).then(|| bytes_read as f64 / received as f64);
    let offsets = shared.offsets_seen.load(Ordering::Relaxed);
    let mut publish_us = std::mem::take(&mut published.durations_us);
    let publish = Summary::of_micros(&mut publish_us);
    let kb_per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if established > 0 => Some((a as f64 - b as f64) / established as f64),
        _ => None,
    };
    let cpu_connect = cpu_start.until(cpu_connected);
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
    println!(
        "== {target} ({}), {} mode ==",
        servers_text(&args.servers),
        args.mode.name()
    );
    println!(
        "subscribers requested   {}  (source IPs 127.0.0.1..{})",
        args.subscribers, args.source_ips
    );
    println!(
        "streams established     {established}  (failed {}: {failure_text})",
        failed + pending
    );
    println!("time to establish all   {connect_s:.2} s");
    for line in &text {
        println!("{line}");
    }
    println!(
        "deliveries              {received}; owed {owed}, lost {lost} (+{lost_after_resync} on streams after resync), \
         duplicates {duplicates}; resyncs {resyncs} on {resynced_streams} streams; streams dropped {dropped}; \
         unknown notifications {foreign}"
    );
    println!(
        "wire checks             {wire_dups} repeated ids, {wire_gaps} skipped {} ",
        if offsets {
            "offsets (ch/off)"
        } else {
            "ids (no ch/off on the wire: id-consecutive check)"
        }
    );
    println!(
        "bytes read on streams   {bytes_read}  ({} per delivery, everything included)",
        fmt_num(bytes_per_delivery, 0)
    );
    println!(
        "delivery latency        p50 {}  p99 {}  max {}",
        fmt_ms(latency.p50_ms),
        fmt_ms(latency.p99_ms),
        fmt_ms(latency.max_ms)
    );
    println!(
        "last subscriber         p50 {}  p99 {}  max {}  (per message, send → last arrival)",
        fmt_ms(headline.last_sub.p50_ms),
        fmt_ms(headline.last_sub.p99_ms),
        fmt_ms(headline.last_sub.max_ms)
    );
    println!(
        "deliveries/s            {}  (over {:.2} s from first publish to last delivery)",
        fmt_num(headline.deliveries_per_sec, 0),
        headline.window_s
    );
    println!(
        "publish requests        {} accepted, {} errors, p50 {} max {}",
        headline.accepted,
        published.errors.len(),
        fmt_ms(publish.p50_ms),
        fmt_ms(publish.max_ms)
    );
    println!(
        "server RSS              before {}  after connect {}  → {} per connection",
        kb(rss_before),
        kb(rss_after),
        kb_per_conn.map_or("n/a".into(), |v| format!("{v:.1} KB"))
    );
    println!(
        "server CPU, connecting  {} s   loadgen RSS {}   pings {}",
        fmt_num(cpu_connect.server, 2),
        kb(loadgen_rss),
        shared.pings.load(Ordering::Relaxed)
    );
    for e in published.errors.iter().take(5) {
        println!("publish error: {e}");
    }

    let common = json!({
        "target": target,
        "mode": args.mode.name(),
        "server": servers_text(&args.servers),
        "subscribers": args.subscribers,
        "source_ips": args.source_ips,
        "connect_concurrency": args.connect_concurrency,
        "streams_established": established,
        "streams_failed": failed + pending,
        "failures": failures,
        "streams_dropped": dropped,
        "connect_time_s": connect_s,
        "publish_errors": published.errors.len(),
        "publish_request_p50_ms": publish.p50_ms,
        "publish_request_max_ms": publish.max_ms,
        "expected_deliveries": owed,
        "deliveries": received,
        "bytes_read": bytes_read,
        "bytes_per_delivery": bytes_per_delivery,
        "lost": lost,
        "lost_after_resync": lost_after_resync,
        "duplicates": duplicates,
        "wire_repeated_ids": wire_dups,
        "wire_gaps": wire_gaps,
        "wire_offsets": offsets,
        "resyncs": resyncs,
        "resynced_streams": resynced_streams,
        "unknown_notifications": foreign,
        "latency_p50_ms": latency.p50_ms,
        "latency_p99_ms": latency.p99_ms,
        "latency_max_ms": latency.max_ms,
        "last_subscriber_p50_ms": headline.last_sub.p50_ms,
        "last_subscriber_p99_ms": headline.last_sub.p99_ms,
        "last_subscriber_max_ms": headline.last_sub.max_ms,
        "deliveries_per_sec": headline.deliveries_per_sec,
        "delivery_window_s": headline.window_s,
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "kb_per_connection": kb_per_conn,
        "server_cpu_connect_s": cpu_connect.server,
        "pings": shared.pings.load(Ordering::Relaxed),
        "loadgen_rss_kb": loadgen_rss,
    });
    out["instances"] = json!(args.servers.len());
    out["padded"] = json!(args.padded);
    if let (Value::Object(o), Value::Object(c)) = (&mut out, common) {
        o.extend(c);
    }
    if let Some(path) = &args.json_out {
        let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }

    // The baseline cannot replay: what it misses across the storm is its nature, not a failure.
    let loss_counts = !(args.mode == Mode::Storm && args.target == Target::Baseline);
    // In the storm a `resync` is the server's documented answer to a gap it
    // cannot replay (counted and printed); elsewhere nothing should cause one.
    let resyncs_fail =
        args.mode != Mode::Storm && resyncs_outside_broken_steps.unwrap_or(resyncs) > 0;
    ok &= established == args.subscribers
        && published.errors.is_empty()
        && duplicates == 0
        && !resyncs_fail
        && (!loss_counts || lost == 0);
    Ok(ok)
}
