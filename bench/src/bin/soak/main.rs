//! `soak`: mixed, bounded load against a running Herald for a fixed time,
//! then proof that nothing was lost and memory stayed flat.
//!
//! The mix, all of it running concurrently for the whole run (every actor is
//! closed-loop: it waits for each answer before its next tick, so a slow
//! server lowers the offered load instead of piling up requests):
//!
//! | actor          | rate                        | what                                             |
//! |----------------|-----------------------------|--------------------------------------------------|
//! | streams        | 1 per user, 2 for every 4th | `GET /sse/stream`, Bearer; each lives 20–120 s, then closes and resumes with its last `id:` (half the slots send `Last-Event-ID`, half `?last_event_id=`) after 0–2 s |
//! | storms         | every min(300 s, run/4), first at half that | 90% of the streams drop at once and reopen at once, resuming |
//! | broadcasts     | 2/s (admin)                 | `POST /api/sse/broadcast`                        |
//! | send-to-user   | 1/s (admin)                 | `POST /api/sse/send-to-user`, random user, event `notification` or `soak.direct` |
//! | mark-read      | 2/s                         | a random user marks one notification it received |
//! | read-all       | 1 per 5 s                   | a random user marks everything read              |
//! | inbox          | 1/s                         | a random user reads its first page               |
//! | good sign-ins  | 1 per 10 s, from 127.0.0.3  | a random user signs in again, its streams move to the new token, the old session signs out (which closes its streams) |
//! | bad sign-ins   | 1/s, from 127.0.0.2         | wrong password for a dedicated decoy account (401, then 429 once the limit is hit: both expected) |
//!
//! Loss check: each stream slot remembers every `seq` (log position) it
//! received across all its reconnects. After the load stops and a drain,
//! each slot must hold every position the user's whole inbox lists
//! (`GET /api/notifications`, paged; positions are global, so a user's are
//! not `1..=n`), and the inbox must hold as many as the accepted (200)
//! publishes that targeted the user; a mismatch is reported. A
//! `resync` is counted and answered like a real client would (refetch the
//! inbox, which fills the slot's gaps); a seq received twice by one slot is
//! a duplicate.
//!
//! Exit status: 0 pass; 3 the run completed but failed (lost notifications,
//! duplicates or reordering on a resumed stream, an unexpected 5xx, RSS at the end > 1.1 × RSS after warm-up, or the final
//! check could not be made); 1 setup error; 2 bad arguments.

use std::{
    net::Ipv4Addr,
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use herald_bench::{
    cli,
    http::HttpConn,
    procfs,
    soak::{Kind, Tally},
};
use serde::Deserialize;
use tokio::{
    sync::{watch, Semaphore},
    task::JoinSet,
};

mod actors;
mod args;
mod ctx;
mod report;
mod stream;

use args::Args;
use ctx::{setup_sign_in, Ctx, InboxPage, Phase, Vu};
use report::{Plan, RssLog};

// The mix (see the table above). Every figure is printed at the start of a run.
pub const BROADCASTS_PER_SEC: f64 = 2.0;
pub const SENDS_TO_USER_PER_SEC: f64 = 1.0;
pub const MARK_READ_PER_SEC: f64 = 2.0;
pub const READ_ALL_PER_SEC: f64 = 0.2;
pub const INBOX_READS_PER_SEC: f64 = 1.0;
pub const GOOD_SIGNINS_PER_SEC: f64 = 0.1;
pub const BAD_SIGNINS_PER_SEC: f64 = 1.0;
/// Every n-th user keeps a second stream (a second tab).
pub const SECOND_STREAM_EVERY: usize = 4;
/// A stream's life before it churns, seconds (uniform).
pub const STREAM_LIFETIME_SECS: (u64, u64) = (20, 120);
/// Pause before a churned stream reopens, milliseconds (uniform from 0).
pub const REOPEN_PAUSE_MS: u64 = 2_000;
/// Share of the open streams a storm drops.
pub const STORM_SHARE: f64 = 0.9;
/// Storm period and warm-up point, capped for long runs and scaled for short ones.
pub const STORM_PERIOD_MAX: Duration = Duration::from_secs(300);
pub const WARMUP_MAX: Duration = Duration::from_secs(300);
/// RSS at the end may be at most this times the RSS at the warm-up point.
pub const RSS_GROWTH_LIMIT: f64 = 1.10;
pub const REPORT_EVERY: Duration = Duration::from_secs(30);
/// After the load stops: how long streams get to catch up.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const STREAM_OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause after a refused or failed stream open, and after the server closed one.
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);
pub const READ_BUF: usize = 4096;
/// Notification ids a user remembers for mark-read.
pub const RECENT_IDS: usize = 32;

/// Loopback sources: streams and ordinary requests, bad sign-ins, good sign-ins.
pub const SOURCE_MAIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
pub const SOURCE_BAD_SIGNIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const SOURCE_GOOD_SIGNIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse_checked();
    for ip in [SOURCE_MAIN, SOURCE_BAD_SIGNIN, SOURCE_GOOD_SIGNIN] {
        if let Err(e) = cli::check_source_ip(ip.into()) {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    }
    cli::exit_status("soak", run(args).await)
}

async fn run(args: Args) -> Result<bool, String> {
    let plan = Plan::new(args.duration());
    plan.print(&args);
    let ctx = Arc::new(set_up(&args).await?);
    let pid = args.server_pid;
    let (phase_tx, phase_rx) = watch::channel(Phase::Load);
    let (storm_tx, storm_rx) = watch::channel(0u64);

    // Streams, opened over the first few seconds; then the other actors.
    let mut slots = JoinSet::new();
    let mut k = 0u64;
    for (u, vu) in ctx.users.iter().enumerate() {
        for s in 0..vu.slots.len() {
            let delay = Duration::from_millis(10 * k);
            k += 1;
            let (phase, storm) = (phase_rx.clone(), storm_rx.clone());
            slots.spawn(stream::run_slot(ctx.clone(), u, s, phase, storm, delay));
        }
    }
    // Publishing starts once every slot has opened: a first open carries no
    // resume point (like a browser's first EventSource), so what was sent
    // before it belongs to the inbox, not to the stream.
    let opening = tokio::time::Instant::now();
    while !all_opened(&ctx) {
        if opening.elapsed() > STREAM_OPEN_TIMEOUT * 4 {
            return Err("not every stream opened within a minute".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "all {} streams open after {:.1} s; load starts",
        ctx.open_streams.load(Ordering::Relaxed),
        opening.elapsed().as_secs_f64()
    );
    println!();
    let mut actors = JoinSet::new();
    actors::spawn_actors(&ctx, &phase_rx, &mut actors);

    let rss = drive(&ctx, pid, &plan, &storm_tx).await?;

    // Drain: no more publishing or churn; streams stay open and catch up.
    phase_tx.send_replace(Phase::Drain);
    while actors.join_next().await.is_some() {}
    let drain_start = tokio::time::Instant::now();
    while !caught_up(&ctx) && drain_start.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drain_secs = drain_start.elapsed().as_secs_f64();
    let rss_after_drain = procfs::rss_kb(pid);
    let inboxes = inbox_positions(&ctx).await;
    phase_tx.send_replace(Phase::Stop);
    while slots.join_next().await.is_some() {}

    let passed = report::print(&ctx, &plan, &rss, rss_after_drain, drain_secs, &inboxes);
    Ok(passed)
}

/// Signs the admin and every user in (a few at a time: each is an argon2 hash).
async fn set_up(args: &Args) -> Result<Ctx, String> {
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
    let mut users: Vec<Option<Arc<Vu>>> = (0..args.users).map(|_| None).collect();
    while let Some(done) = signins.join_next().await {
        let (u, name, signed, local) = done.map_err(|e| e.to_string())??;
        for ((kind, status), n) in local {
            (0..n).for_each(|_| tally.add(kind, status));
        }
        let signed = signed?;
        users[u - 1] = Some(Arc::new(Vu {
            name,
            id: signed.user.id,
            token: Mutex::new(signed.token),
            recent_ids: Mutex::default(),
            slots: (0..slots_of(u - 1)).map(|_| Mutex::default()).collect(),
            sends_ok: AtomicU64::new(0),
        }));
    }
    Ok(Ctx {
        server: args.server,
        users: users.into_iter().flatten().collect(),
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
    })
}

/// Stream slots of the user at `index` (0-based).
pub fn slots_of(index: usize) -> usize {
    1 + usize::from(index.is_multiple_of(SECOND_STREAM_EVERY))
}

#[derive(Deserialize)]
struct Stats {
    data: StatsData,
}

#[derive(Deserialize)]
struct StatsData {
    total_clients: u64,
}

/// The clock of the load phase: a report line every `REPORT_EVERY`, the
/// storms, the RSS readings (warm-up point, peak, end of load).
async fn drive(
    ctx: &Ctx,
    pid: u32,
    plan: &Plan,
    storm_tx: &watch::Sender<u64>,
) -> Result<RssLog, String> {
    let mut rss = RssLog {
        start: procfs::rss_kb(pid),
        ..RssLog::default()
    };
    report::print_progress_head();
    let start = tokio::time::Instant::now();
    let end = start + plan.duration;
    let mut next_report = start + REPORT_EVERY;
    let mut next_storm = start + plan.storm_period / 2;
    let warm_at = start + plan.warmup;
    let mut stats_conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    while tokio::time::Instant::now() < end {
        let mut wake = end.min(next_report).min(next_storm);
        if rss.warm.is_none() {
            wake = wake.min(warm_at);
        }
        tokio::time::sleep_until(wake).await;
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(start);
        let reading = procfs::rss_kb(pid).ok_or(format!("Herald (pid {pid}) is gone"))?;
        rss.peak = rss.peak.max(reading);
        if rss.warm.is_none() && now >= warm_at {
            rss.warm = Some(reading);
        }
        if now >= next_storm && now < end {
            let n = ctx.storms.fetch_add(1, Ordering::Relaxed) + 1;
            report::print_storm(elapsed, n, ctx.open_streams.load(Ordering::Relaxed));
            storm_tx.send_replace(n);
            next_storm += plan.storm_period;
        }
        if now >= next_report {
            let path = "/api/sse/stats";
            let server = ctx
                .request(
                    &mut stats_conn,
                    Kind::Stats,
                    "GET",
                    path,
                    Some(&ctx.admin_token),
                    None,
                )
                .await
                .and_then(|r| serde_json::from_slice::<Stats>(&r.body).ok())
                .map(|s| s.data.total_clients);
            report::print_progress(ctx, elapsed, reading, server);
            next_report += REPORT_EVERY;
        }
    }
    rss.end_of_load = procfs::rss_kb(pid);
    rss.load_secs = start.elapsed().as_secs_f64();
    Ok(rss)
}

/// True once every slot has had a stream open.
fn all_opened(ctx: &Ctx) -> bool {
    ctx.users.iter().all(|vu| {
        vu.slots
            .iter()
            .all(|s| s.lock().unwrap_or_else(|e| e.into_inner()).opens > 0)
    })
}

/// True once every slot holds as many notifications as its user was sent
/// (accepted publishes); which ones, the final check says.
fn caught_up(ctx: &Ctx) -> bool {
    ctx.users.iter().all(|vu| {
        let expected = ctx.expected_for(vu);
        vu.slots.iter().all(|s| {
            let s = s.lock().unwrap_or_else(|e| e.into_inner());
            s.streamed.union_len(&s.recovered) >= expected
        })
    })
}

/// Each user's notifications, as the positions their whole inbox lists
/// (`None`: the inbox did not answer).
async fn inbox_positions(ctx: &Ctx) -> Vec<Option<Vec<u64>>> {
    let mut conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    let mut all = Vec::with_capacity(ctx.users.len());
    for vu in &ctx.users {
        let mut positions = Some(Vec::new());
        let mut before: Option<i64> = None;
        // 1,000 pages of 100: far more than a soak sends anyone.
        for _ in 0..1_000 {
            let path = match before {
                Some(b) => format!("/api/notifications?limit=100&before={b}"),
                None => "/api/notifications?limit=100".to_string(),
            };
            let page = ctx
                .request(
                    &mut conn,
                    Kind::FinalCheck,
                    "GET",
                    &path,
                    Some(&vu.token()),
                    None,
                )
                .await
                .filter(|r| r.status == 200)
                .and_then(|r| serde_json::from_slice::<InboxPage>(&r.body).ok());
            let Some(page) = page else {
                positions = None;
                break;
            };
            if let Some(p) = positions.as_mut() {
                p.extend(
                    page.items
                        .iter()
                        .filter(|i| i.seq > 0)
                        .map(|i| i.seq as u64),
                );
            }
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        all.push(positions);
    }
    all
}
