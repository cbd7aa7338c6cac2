//! What the soak prints: the plan, a progress line every 30 s, and the
//! verdict (memory, requests by kind and status, notifications).

use std::{sync::atomic::Ordering, time::Duration};

use herald_bench::soak::{by_status, check_slot, status_label};

use crate::{
    ctx::Ctx, slots_of, Args, BAD_SIGNINS_PER_SEC, BROADCASTS_PER_SEC, DRAIN_LIMIT,
    GOOD_SIGNINS_PER_SEC, INBOX_READS_PER_SEC, MARK_READ_PER_SEC, READ_ALL_PER_SEC,
    REOPEN_PAUSE_MS, RSS_GROWTH_LIMIT, SECOND_STREAM_EVERY, SENDS_TO_USER_PER_SEC,
    STORM_PERIOD_MAX, STORM_SHARE, STREAM_LIFETIME_SECS, WARMUP_MAX,
};

/// The run's timing, scaled for short runs.
pub struct Plan {
    pub duration: Duration,
    /// When the reference RSS is read: min(300 s, duration / 2). Herald's RSS
    /// climbs for about its first 5 minutes under this mix (caches, per-user
    /// state), so an earlier reference would measure warm-up, not a leak: a
    /// run of 5 minutes read at t = 50 s grew 1.21× while its curve matched
    /// the 30-minute run's, which was flat (1.038×) from 300 s on.
    pub warmup: Duration,
    /// Storms come every `storm_period`, the first at half of it.
    pub storm_period: Duration,
}

impl Plan {
    pub fn new(duration: Duration) -> Plan {
        Plan {
            duration,
            warmup: WARMUP_MAX.min(duration / 2),
            storm_period: STORM_PERIOD_MAX.min(duration / 4),
        }
    }

    pub fn print(&self, args: &Args) {
        let streams: usize = (0..args.users).map(slots_of).sum();
        println!("# Herald soak test");
        println!();
        println!(
            "server {} (pid {}); load for {} s, then a drain of up to {} s",
            args.server,
            args.server_pid,
            self.duration.as_secs(),
            DRAIN_LIMIT.as_secs()
        );
        println!(
            "users: {n} ({p}1..{p}{n}), {streams} streams (a second one for every {SECOND_STREAM_EVERY}th user); bad sign-ins aim at {}",
            args.decoy,
            n = args.users,
            p = args.user_prefix,
        );
        println!(
            "mix: broadcasts {BROADCASTS_PER_SEC}/s, send-to-user {SENDS_TO_USER_PER_SEC}/s, mark-read {MARK_READ_PER_SEC}/s, read-all {READ_ALL_PER_SEC}/s, inbox reads {INBOX_READS_PER_SEC}/s, good sign-ins {GOOD_SIGNINS_PER_SEC}/s (each signs the old session out), bad sign-ins {BAD_SIGNINS_PER_SEC}/s"
        );
        println!(
            "streams: each lives {}-{} s, then reopens after 0-{REOPEN_PAUSE_MS} ms resuming from its last id (Last-Event-ID header or ?last_event_id=); storms drop {:.0}% of them every {} s, the first at {} s",
            STREAM_LIFETIME_SECS.0,
            STREAM_LIFETIME_SECS.1,
            STORM_SHARE * 100.0,
            self.storm_period.as_secs(),
            (self.storm_period / 2).as_secs()
        );
        let scaled = if self.warmup < WARMUP_MAX {
            " (a short run: min(300 s, duration / 2); Herald warms up for about 5 min, so this verdict is only indicative)"
        } else {
            ""
        };
        println!(
            "memory: RSS at the end of the load must be <= {RSS_GROWTH_LIMIT} x RSS at the warm-up point, t = {} s{scaled}",
            self.warmup.as_secs()
        );
        println!();
    }
}

/// Herald's VmRSS over the run, KiB.
#[derive(Default)]
pub struct RssLog {
    pub start: Option<u64>,
    pub warm: Option<u64>,
    pub end_of_load: Option<u64>,
    pub peak: u64,
    pub load_secs: f64,
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

pub fn print_progress_head() {
    println!(
        "| elapsed | Herald RSS | open streams (client / server) | requests so far, by status |"
    );
    println!(
        "|--------:|-----------:|-------------------------------:|----------------------------|"
    );
}

pub fn print_storm(elapsed: Duration, n: u64, open: usize) {
    println!(
        "| {:>6.0}s | storm {n}: ~{:.0}% of {open} open streams dropped, all reopening at once | | |",
        elapsed.as_secs_f64(),
        STORM_SHARE * 100.0
    );
}

pub fn print_progress(ctx: &Ctx, elapsed: Duration, rss_kb: u64, server_streams: Option<u64>) {
    println!(
        "| {:>6.0}s | {:>6.1} MiB | {:>14} / {:<14} | {} |",
        elapsed.as_secs_f64(),
        mib(rss_kb),
        ctx.open_streams.load(Ordering::Relaxed),
        server_streams.map_or("?".into(), |n| n.to_string()),
        by_status(&ctx.tally.snapshot())
    );
}

/// Prints the verdict; true when the run passed.
pub fn print(
    ctx: &Ctx,
    plan: &Plan,
    rss: &RssLog,
    rss_after_drain: Option<u64>,
    drain_secs: f64,
    inboxes: &[Option<Vec<u64>>],
) -> bool {
    println!();
    println!(
        "load ran {:.0} s; drain took {drain_secs:.1} s (limit {} s); storms: {}",
        rss.load_secs,
        DRAIN_LIMIT.as_secs(),
        ctx.storms.load(Ordering::Relaxed)
    );
    let rss_ok = print_memory(plan, rss, rss_after_drain);
    let unexpected_5xx = print_requests(ctx);
    let n = print_notifications(ctx, inboxes);

    let mut failures = Vec::new();
    if n.lost > 0 {
        failures.push(format!("{} notifications lost", n.lost));
    }
    // The stream promises no duplicate and no reordering on resume (SPEC, "The stream").
    if n.duplicates > 0 || n.out_of_order > 0 {
        failures.push(format!(
            "{} duplicates and {} out-of-order events on resumed streams",
            n.duplicates, n.out_of_order
        ));
    }
    if unexpected_5xx > 0 {
        failures.push(format!("{unexpected_5xx} unexpected 5xx answers"));
    }
    if !rss_ok {
        failures.push("RSS grew past the limit after warm-up (or could not be read)".into());
    }
    if n.unchecked > 0 {
        failures.push(format!("{} users could not be checked", n.unchecked));
    }
    println!();
    if failures.is_empty() {
        println!("PASS: 0 lost, no duplicates, no unexpected 5xx, RSS flat after warm-up");
        true
    } else {
        println!("FAIL: {}", failures.join("; "));
        false
    }
}

/// True when RSS stayed within the limit.
fn print_memory(plan: &Plan, rss: &RssLog, after_drain: Option<u64>) -> bool {
    let fmt = |v: Option<u64>| v.map_or("n/a".to_string(), |kb| format!("{:.1} MiB", mib(kb)));
    println!();
    println!("## Memory (Herald VmRSS)");
    println!();
    println!(
        "| at start | at warm-up (t = {} s) | at end of load | after drain | peak |",
        plan.warmup.as_secs()
    );
    println!("|---------:|---------------------:|---------------:|------------:|-----:|");
    println!(
        "| {} | {} | {} | {} | {} |",
        fmt(rss.start),
        fmt(rss.warm),
        fmt(rss.end_of_load),
        fmt(after_drain),
        fmt(Some(rss.peak))
    );
    let ratio = match (rss.warm, rss.end_of_load) {
        (Some(w), Some(e)) if w > 0 => Some(e as f64 / w as f64),
        _ => None,
    };
    let ok = ratio.is_some_and(|r| r <= RSS_GROWTH_LIMIT);
    println!();
    println!(
        "end of load / warm-up = {} (limit {RSS_GROWTH_LIMIT}): {}",
        ratio.map_or("n/a".into(), |r| format!("{r:.3}")),
        if ok { "flat" } else { "FAIL" }
    );
    ok
}

/// Prints the table; returns the number of unexpected 5xx answers.
fn print_requests(ctx: &Ctx) -> u64 {
    println!();
    println!("## Requests by kind and status");
    println!();
    println!("| request | status | count | |");
    println!("|---------|-------:|------:|-|");
    let (mut unexpected, mut unexpected_5xx) = (0u64, 0u64);
    for ((kind, status), n) in &ctx.tally.snapshot() {
        let ok = kind.expects(*status);
        if !ok {
            unexpected += n;
            if *status >= 500 {
                unexpected_5xx += n;
            }
        }
        let note = match (ok, *status) {
            (true, s) if s >= 400 => "expected refusal",
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
    unexpected_5xx
}

/// The figures of the loss accounting the verdict looks at.
struct Delivery {
    lost: u64,
    duplicates: u64,
    out_of_order: u64,
    /// Users whose inbox did not answer the final check.
    unchecked: usize,
}

/// Prints the loss accounting.
fn print_notifications(ctx: &Ctx, inboxes: &[Option<Vec<u64>>]) -> Delivery {
    let (mut expected_total, mut streamed, mut recovered) = (0u64, 0u64, 0u64);
    let (mut lost, mut duplicates, mut out_of_order, mut opens) = (0u64, 0u64, 0u64, 0u64);
    let mut samples = Vec::new();
    let mut mismatches = Vec::new();
    let mut unchecked = 0;
    for (vu, inbox) in ctx.users.iter().zip(inboxes) {
        let accepted = ctx.expected_for(vu);
        let Some(inbox) = inbox else {
            unchecked += 1;
            continue;
        };
        if inbox.len() as u64 != accepted {
            mismatches.push(format!(
                "{}: {accepted} publishes accepted for them, {} notifications in their inbox",
                vu.name,
                inbox.len()
            ));
        }
        // What the store holds for the user must have reached every slot.
        for (i, slot) in vu.slots.iter().enumerate() {
            let s = slot.lock().unwrap_or_else(|e| e.into_inner());
            let check = check_slot(&s.streamed, &s.recovered, inbox);
            expected_total += inbox.len() as u64;
            streamed += check.streamed;
            recovered += check.recovered;
            lost += check.missing.len() as u64;
            duplicates += s.duplicates;
            out_of_order += s.out_of_order;
            opens += s.opens;
            if !check.missing.is_empty() && samples.len() < 10 {
                let shown: Vec<String> = check.missing.iter().take(8).map(u64::to_string).collect();
                let more = if check.missing.len() > 8 { ",..." } else { "" };
                samples.push(format!(
                    "{} stream {i}: missing seq {}{more}",
                    vu.name,
                    shown.join(",")
                ));
            }
        }
    }
    let sends: u64 = ctx
        .users
        .iter()
        .map(|v| v.sends_ok.load(Ordering::Relaxed))
        .sum();
    println!();
    println!("## Notifications");
    println!();
    println!("| | |");
    println!("|---|---:|");
    let rows: [(&str, u64); 12] = [
        (
            "broadcasts accepted (200)",
            ctx.broadcasts_ok.load(Ordering::Relaxed),
        ),
        ("send-to-user accepted (200)", sends),
        (
            "publishes without an answer",
            ctx.publishes_unknown.load(Ordering::Relaxed),
        ),
        ("stream opens", opens),
        (
            "streams ended by the server",
            ctx.closed_by_server.load(Ordering::Relaxed),
        ),
        ("deliveries owed (per stream slot)", expected_total),
        ("received on a stream", streamed),
        ("recovered from the inbox after resync", recovered),
        ("resync events", ctx.resyncs.load(Ordering::Relaxed)),
        ("duplicates (same seq twice on one slot)", duplicates),
        ("out of order (on one connection)", out_of_order),
        ("LOST", lost),
    ];
    for (name, n) in rows {
        println!("| {name} | {n} |");
    }
    for s in &samples {
        println!("  {s}");
    }
    for m in mismatches.iter().take(10) {
        println!("  store mismatch: {m}");
    }
    if mismatches.len() > 10 {
        println!("  ... and {} more mismatches", mismatches.len() - 10);
    }
    if unchecked > 0 {
        println!("  {unchecked} users could not be checked (their inbox did not answer)");
    }
    Delivery {
        lost,
        duplicates,
        out_of_order,
        unchecked,
    }
}
