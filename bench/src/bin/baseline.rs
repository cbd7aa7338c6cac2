//! `baseline`: the plain axum SSE server everyone writes first — one
//! `tokio::sync::broadcast` channel, `GET /sse` streams it, `POST /publish`
//! feeds it. No auth, no storage, no per-user routing: it is the floor that
//! Herald's figures are compared against.
//!
//! Usage: `baseline [--addr 127.0.0.1:3201]` (or `BASELINE_ADDR`). Prints
//! `listening on <addr>` once bound, so `--addr 127.0.0.1:0` works too.

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
    routing::{get, post},
    Json, Router,
};
use clap::Parser;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Deep enough that a burst of publishes never lags a healthy subscriber.
const CHANNEL_CAPACITY: usize = 1024;

#[derive(Clone)]
struct AppState {
    /// `(id, json)`: the JSON is encoded once per publish, not per subscriber.
    tx: broadcast::Sender<(u64, Arc<str>)>,
    next_id: Arc<AtomicU64>,
}

/// The plain axum SSE server Herald's figures are compared against.
#[derive(Parser)]
#[command(name = "baseline")]
struct Args {
    /// Where to listen (port 0: any free one, printed once bound)
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "BASELINE_ADDR",
        default_value = "127.0.0.1:3201"
    )]
    addr: String,
}

#[tokio::main]
async fn main() {
    let addr = Args::parse().addr;
    let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
    let state = AppState {
        tx,
        next_id: Arc::new(AtomicU64::new(1)),
    };
    let app = Router::new()
        .route("/sse", get(sse))
        .route("/publish", post(publish))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);

    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("baseline: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let bound = listener
        .local_addr()
        .expect("a bound listener has an address");
    // The bench script reads this line to find the port.
    println!("listening on {bound}");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    };
    // Open streams never end on their own, so a graceful shutdown would hang:
    // stop accepting and exit when told to.
    tokio::select! {
        r = axum::serve(listener, app) => {
            if let Err(e) = r {
                eprintln!("baseline: server error: {e}");
                std::process::exit(1);
            }
        }
        _ = shutdown => {}
    }
}

async fn sse(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.tx.subscribe()).filter_map(|msg| async move {
        match msg {
            Ok((id, data)) => Some(Ok(Event::default()
                .event("notification")
                .id(id.to_string())
                .data(&*data))),
            // A lagged receiver just skips ahead, as in the textbook example.
            Err(_) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn publish(State(state): State<AppState>, Json(body): Json<Value>) -> Json<Value> {
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    let data: Arc<str> = body.to_string().into();
    // No subscribers is not an error for a broadcast.
    let _ = state.tx.send((id, data));
    Json(json!({ "success": true }))
}
