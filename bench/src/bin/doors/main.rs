//! `doors`: what the embeddable bell's doors cost under a crowd (issue 18).
//!
//! For each level of concurrency C, C clients at once, each on a
//! connection of its own:
//! - `me`: `GET /api/me` with a user token — the baseline: one session
//!   check, the least any authenticated request costs;
//! - `ticket`: `POST /api/stream-tickets` with a user token (a check and an
//!   insert), spread over `--users` users;
//! - `open`: `GET /sse/stream?ticket=…` with each ticket just issued, read
//!   up to `connected`, then closed (a delete, a session check, an attach);
//! - `hostile`: C ticket requests as ONE user, which the per-user cap
//!   (16 unexpired tickets) must answer 429 beyond the first few.
//!
//! Before the levels, it provisions the users through the API and asks for
//! one user token each with the `users` key (`token` row).
//!
//! Figures per phase: answers by status, latency p50/p99, wall time, the
//! server's CPU per request and its resident memory after. A phase "breaks"
//! when more than 1 % of its requests fail (no answer within the timeout, a
//! refused connection, a 5xx); the run stops after the first level where a
//! phase broke. Run `doors --help` for the flags.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use herald_bench::{cli, http::HttpConn, procfs, stats::Summary};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::Semaphore,
    task::JoinSet,
};

#[derive(Parser)]
#[command(
    about = "What the embeddable bell's doors (user tokens, stream tickets) cost under a crowd"
)]
struct Args {
    /// Herald's address (loopback only).
    #[arg(long, value_parser = cli::loopback_url)]
    url: SocketAddr,
    /// A service key with the `users` scope.
    #[arg(long, env = "DOORS_KEY", hide_env_values = true)]
    key: String,
    /// Herald's process id, for its CPU time and resident memory.
    #[arg(long)]
    pid: Option<u32>,
    /// Users the requests are spread over (provisioned as door1, door2, …).
    #[arg(long, default_value_t = 1000, value_parser = users_count)]
    users: usize,
    /// Levels of concurrency, rising.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "500,1000,2000,4000,8000,16000"
    )]
    levels: Vec<usize>,
    /// How long one request may take before it counts as failed.
    #[arg(long, default_value = "10", value_parser = cli::positive_secs)]
    timeout: Duration,
}

/// How a request ended: an HTTP status, or no answer.
type Outcome = Result<u16, String>;

struct Phase {
    name: &'static str,
    concurrency: usize,
    outcomes: Vec<(Outcome, u32)>,
    wall: Duration,
    cpu_secs: Option<f64>,
    rss_kb: Option<u64>,
}

impl Phase {
    fn failures(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(o, _)| !matches!(o, Ok(s) if *s < 500))
            .count()
    }

    fn broke(&self) -> bool {
        self.failures() * 100 > self.outcomes.len()
    }

    fn p50_ms(&self) -> Option<f64> {
        self.summary().p50_ms
    }

    fn summary(&self) -> Summary {
        let mut micros: Vec<u32> = self
            .outcomes
            .iter()
            .filter(|(o, _)| o.is_ok())
            .map(|(_, us)| *us)
            .collect();
        Summary::of_micros(&mut micros)
    }

    fn row(&self) -> String {
        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        for (outcome, _) in &self.outcomes {
            let label = match outcome {
                Ok(status) => status.to_string(),
                Err(_) => "no answer".to_string(),
            };
            *by_status.entry(label).or_default() += 1;
        }
        let statuses = by_status
            .iter()
            .map(|(s, n)| format!("{n}×{s}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = self.summary();
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
        let cpu = self.cpu_secs.map_or("-".into(), |c| {
            format!("{:.0}", c * 1e6 / self.outcomes.len().max(1) as f64)
        });
        let rss = self
            .rss_kb
            .map_or("-".into(), |kb| format!("{:.1}", kb as f64 / 1024.0));
        format!(
            "| {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
            self.name,
            self.concurrency,
            statuses,
            ms(s.p50_ms),
            ms(s.p99_ms),
            self.wall.as_secs_f64(),
            cpu,
            rss,
            if self.broke() { "BROKE" } else { "ok" }
        )
    }
}

/// At least two: the last is the hostile phase's, the others everyone else's.
fn users_count(s: &str) -> Result<usize, String> {
    match cli::positive_count(s)? {
        n if n >= 2 => Ok(n),
        _ => Err("at least 2".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    cli::exit_status("doors", run(args).await)
}

async fn run(args: Args) -> Result<bool, String> {
    let fds = cli::raise_fd_limit()?;
    let top = args.levels.iter().copied().max().unwrap_or(0);
    if (top as u64) + 100 > fds {
        return Err(format!(
            "{top} connections need more open files than the limit ({fds}); lower --levels"
        ));
    }
    for ip in [source(0), source(249)] {
        cli::check_source_ip(ip.into())?;
    }
    println!("# Doors (issue 18): user tokens and stream tickets under a crowd\n");
    let started = Instant::now();
    let (tokens, minting) = provision(&args).await?;
    println!(
        "| phase | concurrent | answers | p50 ms | p99 ms | wall s | server CPU µs/req | server RSS MB after | |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!("{}", minting.row());
    let tokens = Arc::new(tokens);
    let mut verdict = true;
    let mut ratios = Vec::new();
    for &level in &args.levels {
        let me = phase(&args, "me", level, {
            let tokens = tokens.clone();
            move |i| {
                Request::plain(
                    "GET",
                    "/api/me".into(),
                    tokens[i % (tokens.len() - 1)].clone(),
                )
            }
        })
        .await;
        println!("{}", me.row());
        let (tickets, issued) = ticket_phase(&args, "ticket", level, &tokens, false).await;
        println!("{}", issued.row());
        let tickets = Arc::new(tickets);
        let open = phase(&args, "open", tickets.len(), {
            let tickets = tickets.clone();
            move |i| Request::Stream(format!("/sse/stream?ticket={}", tickets[i]))
        })
        .await;
        println!("{}", open.row());
        let (_, hostile) = ticket_phase(&args, "hostile", level, &tokens, true).await;
        println!("{}", hostile.row());
        if let (Some(base), Some(t), Some(o)) = (me.p50_ms(), issued.p50_ms(), open.p50_ms()) {
            ratios.push(format!(
                "at {level}: ticket {:.2}×, open {:.2}× the p50 of `me`",
                t / base,
                o / base
            ));
        }
        let broke: Vec<&str> = [&me, &issued, &open]
            .iter()
            .filter(|p| p.broke())
            .map(|p| p.name)
            .collect();
        let hostile_held = hostile
            .outcomes
            .iter()
            .filter(|(o, _)| *o == Ok(201))
            .count()
            <= 16;
        if !hostile_held {
            println!("\nFAIL: one user got more than 16 tickets at {level}");
            verdict = false;
        }
        if !broke.is_empty() {
            println!(
                "\nBreaks at {level} concurrent requests: {} (over 1 % unanswered or 5xx)",
                broke.join(", ")
            );
            break;
        }
    }
    println!("\nRatios against the baseline (same level, same run):");
    for r in ratios {
        println!("- {r}");
    }
    println!("\nwhole run: {:.1} s", started.elapsed().as_secs_f64());
    Ok(verdict)
}

/// The users door1…doorN, and a user token for each (the `token` row).
async fn provision(args: &Args) -> Result<(Vec<String>, Phase), String> {
    let gate = Arc::new(Semaphore::new(64));
    let mut set = JoinSet::new();
    for i in 1..=args.users {
        let (url, key, gate) = (args.url, args.key.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut conn = HttpConn::new(url, None);
            let body = format!(r#"{{"username":"door{i}","role":"user"}}"#);
            let made = conn
                .request("POST", "/api/users", Some(&key), Some(&body))
                .await?;
            if made.status != 201 && made.status != 409 {
                return Err(format!("provisioning door{i}: {}", made.status));
            }
            conn.reset();
            let t0 = Instant::now();
            let reply = conn
                .request(
                    "POST",
                    &format!("/api/users/door{i}/tokens"),
                    Some(&key),
                    None,
                )
                .await;
            let us = t0.elapsed().as_micros() as u32;
            let token = reply.as_ref().ok().and_then(|r| {
                let v: Value = serde_json::from_slice(&r.body).ok()?;
                Some(v["data"]["token"].as_str()?.to_string())
            });
            Ok::<_, String>((reply.map(|r| r.status), us, token))
        });
    }
    let cpu0 = args.pid.and_then(procfs::cpu_secs);
    let t0 = Instant::now();
    let mut tokens = Vec::new();
    let mut outcomes = Vec::new();
    while let Some(done) = set.join_next().await {
        let (status, us, token) = done.map_err(|e| e.to_string())??;
        outcomes.push((status, us));
        tokens.extend(token);
    }
    if tokens.len() < args.users {
        return Err(format!(
            "only {} of {} user tokens issued",
            tokens.len(),
            args.users
        ));
    }
    let phase = Phase {
        name: "token (+ provisioning)",
        concurrency: 64,
        outcomes,
        wall: t0.elapsed(),
        cpu_secs: delta(cpu0, args.pid.and_then(procfs::cpu_secs)),
        rss_kb: args.pid.and_then(procfs::rss_kb),
    };
    Ok((tokens, phase))
}

/// C ticket requests: spread over the users, or all as one (`hostile`).
async fn ticket_phase(
    args: &Args,
    name: &'static str,
    level: usize,
    tokens: &Arc<Vec<String>>,
    hostile: bool,
) -> (Vec<String>, Phase) {
    let tickets = Arc::new(std::sync::Mutex::new(Vec::new()));
    let phase = phase(args, name, level, {
        let (tokens, tickets) = (tokens.clone(), tickets.clone());
        move |i| {
            // The hostile user is the last one, which the others never are:
            // its outstanding tickets hold back no one else's requests.
            let who = if hostile {
                tokens.len() - 1
            } else {
                i % (tokens.len() - 1)
            };
            Request::Ticket(tokens[who].clone(), tickets.clone())
        }
    })
    .await;
    let tickets = std::mem::take(&mut *tickets.lock().unwrap());
    (tickets, phase)
}

enum Request {
    Plain {
        method: &'static str,
        path: String,
        bearer: String,
    },
    /// A ticket request whose ticket is kept.
    Ticket(String, Arc<std::sync::Mutex<Vec<String>>>),
    /// A stream opened up to its `connected` event.
    Stream(String),
}

impl Request {
    fn plain(method: &'static str, path: String, bearer: String) -> Request {
        Request::Plain {
            method,
            path,
            bearer,
        }
    }

    async fn send(self, url: SocketAddr, source: Ipv4Addr) -> Outcome {
        match self {
            Request::Plain {
                method,
                path,
                bearer,
            } => HttpConn::new(url, Some(source))
                .request(method, &path, Some(&bearer), None)
                .await
                .map(|r| r.status),
            Request::Ticket(bearer, into) => {
                let reply = HttpConn::new(url, Some(source))
                    .request("POST", "/api/stream-tickets", Some(&bearer), None)
                    .await?;
                if reply.status == 201 {
                    let v: Value =
                        serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
                    if let Some(t) = v["ticket"].as_str() {
                        into.lock().unwrap().push(t.to_string());
                    }
                }
                Ok(reply.status)
            }
            Request::Stream(path) => open_stream(url, source, &path).await,
        }
    }
}

/// Opens a stream and reads until `connected` (200) or the head says otherwise.
async fn open_stream(url: SocketAddr, source: Ipv4Addr, path: &str) -> Outcome {
    let mut tcp = herald_bench::http::connect(url, Some(source))
        .await
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {url}\r\nOrigin: http://127.0.0.1:1\r\n\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tcp.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before an answer".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let Some(status) = text.get(9..12).and_then(|s| s.parse::<u16>().ok()) else {
            continue;
        };
        if status != 200 || text.contains("event: connected") {
            return Ok(status);
        }
    }
}

/// Runs `count` requests at once (each on its own connection), made by `make`.
async fn phase(
    args: &Args,
    name: &'static str,
    count: usize,
    make: impl Fn(usize) -> Request,
) -> Phase {
    let start = Arc::new(tokio::sync::Barrier::new(count + 1));
    let mut set = JoinSet::new();
    for i in 0..count {
        let (request, start, url, timeout) = (make(i), start.clone(), args.url, args.timeout);
        set.spawn(async move {
            start.wait().await;
            let t0 = Instant::now();
            let outcome = match tokio::time::timeout(timeout, request.send(url, source(i))).await {
                Ok(outcome) => outcome,
                Err(_) => Err("timed out".into()),
            };
            (outcome, t0.elapsed().as_micros() as u32)
        });
    }
    let cpu0 = args.pid.and_then(procfs::cpu_secs);
    start.wait().await;
    let t0 = Instant::now();
    let mut outcomes = Vec::with_capacity(count);
    while let Some(done) = set.join_next().await {
        if let Ok(result) = done {
            outcomes.push(result);
        }
    }
    Phase {
        name,
        concurrency: count,
        outcomes,
        wall: t0.elapsed(),
        cpu_secs: delta(cpu0, args.pid.and_then(procfs::cpu_secs)),
        rss_kb: args.pid.and_then(procfs::rss_kb),
    }
}

/// Connections come from 127.0.0.2…127.0.0.251 in turn: tens of thousands
/// of short connections to one address and port would otherwise run out of
/// ephemeral ports (each waits a minute in TIME_WAIT) before the server breaks.
fn source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + (i % 250) as u8)
}

fn delta(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(after? - before?)
}
