//! Publishing: open loop at a rate (each message on its tick, answered or
//! not, so a slow publish path shows up as latency instead of quietly
//! lowering the offered rate), or closed loop (each publisher sends its next
//! message as soon as the previous one is answered: the server's throughput).
//! Every publish goes through `herald_bench::http::HttpConn`, on keep-alive
//! connections of their own, never queued behind the subscribers. With
//! several servers (the instances of a cluster), message `i` goes through
//! `servers[i % n]`.

use std::{
    net::SocketAddr,
    sync::{atomic::Ordering, Arc, Mutex},
    time::Duration,
};

use herald_bench::http::HttpConn;
use serde_json::json;
use tokio::{
    sync::{watch, Semaphore},
    task::JoinSet,
    time::MissedTickBehavior,
};

use crate::{
    shared::{Shared, FAILED},
    Target,
};

/// At most this many open-loop publish requests in flight; past it the
/// publisher waits, i.e. the server is far slower than the requested rate.
const MAX_PUBLISHES_IN_FLIGHT: usize = 64;
/// A publish not answered by then counts as failed.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);

pub struct PubConfig {
    pub target: Target,
    pub servers: Vec<SocketAddr>,
    pub admin_token: Option<String>,
    /// Baseline: Herald-sized data (`--padded`).
    pub padded: bool,
}

/// What Herald's stream carries for message `i` (the fields of its
/// `notification` data, same lengths), as the baseline's data when padded.
/// Its channel fields are renamed (`cx`, `of`): the baseline has no log,
/// and the loadgen checks offsets wherever it finds them.
fn herald_sized(i: usize) -> serde_json::Value {
    json!({
        "id": i, "seq": i, "title": format!("bench {i}"), "body": "", "severity": "info",
        "created_at": "2026-12-03T17:40:22.067Z", "read": false, "cx": "all", "of": i, "unread": i,
    })
}

impl PubConfig {
    /// Which of `servers` message `i` is published through.
    fn server_of(&self, i: usize) -> usize {
        i % self.servers.len()
    }
}

/// What one publishing run did: its messages are `first..end`.
#[derive(Default)]
pub struct Published {
    pub first: usize,
    pub end: usize,
    /// Request durations of the accepted publishes, µs.
    pub durations_us: Vec<u32>,
    pub errors: Vec<String>,
}

impl Published {
    fn absorb(&mut self, result: Result<u32, String>) {
        match result {
            Ok(us) => self.durations_us.push(us),
            Err(msg) => self.errors.push(msg),
        }
    }
}

/// Publishes message `i` (a broadcast titled `bench i`), recording its
/// send instant before the request goes out and its answer after.
async fn publish_one(
    conn: &mut HttpConn,
    cfg: &PubConfig,
    shared: &Shared,
    i: usize,
) -> Result<u32, String> {
    let (path, body) = match cfg.target {
        Target::Herald => (
            "/api/sse/broadcast",
            json!({"event": "notification", "data": {"title": format!("bench {i}"), "body": ""}}),
        ),
        Target::Baseline if cfg.padded => ("/publish", herald_sized(i)),
        Target::Baseline => ("/publish", json!({"title": format!("bench {i}")})),
    };
    let body = body.to_string();
    let start = shared.now_ns();
    shared.sent_at[i].store(start, Ordering::Release);
    let reply = tokio::time::timeout(
        PUBLISH_TIMEOUT,
        conn.request("POST", path, cfg.admin_token.as_deref(), Some(&body)),
    )
    .await;
    let end = shared.now_ns();
    let result = match reply {
        Ok(Ok(r)) if r.status == 200 => Ok(((end - start) / 1000).min(u32::MAX as u64) as u32),
        Ok(Ok(r)) => Err(format!("message {i}: HTTP {}", r.status)),
        Ok(Err(e)) => Err(format!("message {i}: {e}")),
        Err(_) => {
            conn.reset();
            Err(format!("message {i}: no answer within {PUBLISH_TIMEOUT:?}"))
        }
    };
    let answered = if result.is_ok() { end } else { FAILED };
    shared.answered[i].store(answered, Ordering::Release);
    result
}

/// Open loop at `rate`: `count` messages, or until `stop` turns true.
pub async fn open_loop(
    cfg: Arc<PubConfig>,
    shared: Arc<Shared>,
    rate: f64,
    count: Option<usize>,
    mut stop: Option<watch::Receiver<bool>>,
) -> Published {
    // Idle keep-alive connections, per server.
    let idle: Arc<Vec<Mutex<Vec<HttpConn>>>> =
        Arc::new(cfg.servers.iter().map(|_| Mutex::default()).collect());
    let in_flight = Arc::new(Semaphore::new(MAX_PUBLISHES_IN_FLIGHT));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // If the load generator itself stalls, catch up: the average rate is the
    // setting under test.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let first = shared.published();
    let mut out = Published {
        first,
        end: first,
        ..Published::default()
    };
    let mut requests = JoinSet::new();
    let mut n = 0;
    loop {
        if count.is_some_and(|c| n >= c) {
            break;
        }
        match stop.as_mut() {
            Some(s) => {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = s.wait_for(|v| *v) => break,
                }
            }
            None => {
                ticker.tick().await;
            }
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let i = shared.next_msg.fetch_add(1, Ordering::Relaxed);
        if i >= shared.capacity {
            break;
        }
        n += 1;
        out.end = i + 1;
        let (idle, cfg, shared) = (idle.clone(), cfg.clone(), shared.clone());
        requests.spawn(async move {
            let _permit = permit;
            let s = cfg.server_of(i);
            let pooled = idle[s].lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut conn = pooled.unwrap_or_else(|| HttpConn::new(cfg.servers[s], None));
            let result = publish_one(&mut conn, &cfg, &shared, i).await;
            if result.is_ok() {
                idle[s].lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            }
            result
        });
    }
    while let Some(done) = requests.join_next().await {
        match done {
            Ok(r) => out.absorb(r),
            Err(e) => out.errors.push(format!("publish task: {e}")),
        }
    }
    out
}

/// Closed loop: `publishers` tasks, each sending its next message as soon
/// as the previous one was answered, for `duration`.
pub async fn closed_loop(
    cfg: Arc<PubConfig>,
    shared: Arc<Shared>,
    publishers: usize,
    duration: Duration,
) -> Published {
    let first = shared.published();
    let deadline = tokio::time::Instant::now() + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..publishers {
        let (cfg, shared) = (cfg.clone(), shared.clone());
        tasks.spawn(async move {
            // One keep-alive connection per server.
            let mut conns: Vec<HttpConn> = cfg
                .servers
                .iter()
                .map(|&s| HttpConn::new(s, None))
                .collect();
            let mut results = Vec::new();
            while tokio::time::Instant::now() < deadline {
                let i = shared.next_msg.fetch_add(1, Ordering::Relaxed);
                if i >= shared.capacity {
                    break;
                }
                let conn = &mut conns[cfg.server_of(i)];
                results.push(publish_one(conn, &cfg, &shared, i).await);
            }
            results
        });
    }
    let mut out = Published::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(results) => results.into_iter().for_each(|r| out.absorb(r)),
            Err(e) => out.errors.push(format!("publish task: {e}")),
        }
    }
    out.first = first;
    out.end = shared.published();
    out
}
