//! `GET /metrics`: Prometheus text exposition of the hub's numbers.
//!
//! Open to loopback callers (a local scraper, or a reverse proxy on the same
//! host); anyone else needs `Authorization: Bearer $HERALD_METRICS_TOKEN`.

use std::{
    fmt::Write,
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{http::error::error_response, state::AppState};

/// Upper bounds (seconds) of the publish-to-write latency buckets.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// A fixed-bucket histogram updated with relaxed atomics: cheap enough to
/// observe every delivery on every stream.
#[derive(Default)]
pub struct LatencyHistogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !allowed(&state, peer, &headers) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "metrics need the metrics token (or a loopback caller)",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&state),
    )
        .into_response()
}

fn allowed(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes())),
        None => peer.ip().is_loopback(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn render(state: &AppState) -> String {
    let hub = &state.hub;
    let c = hub.counters();
    let mut out = String::with_capacity(2048);
    // Numbers here are this instance's; with several, a scraper tells them
    // apart by this label (its own `instance` label is the scrape target).
    let _ = writeln!(
        out,
        "# HELP herald_instance_info This process among a cluster's instances.\n# TYPE herald_instance_info gauge\nherald_instance_info{{herald_instance=\"{}\",backend=\"{}\"}} 1",
        state.instance_id,
        match state.pool.backend() {
            crate::server::store::Backend::Sqlite => "sqlite",
            crate::server::store::Backend::Postgres => "postgres",
        }
    );
    let mut gauge = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "sse_active_connections",
        "gauge",
        "Open SSE streams.",
        hub.active_connections() as u64,
    );
    gauge(
        "sse_active_users",
        "gauge",
        "Users with at least one open stream.",
        hub.stats().user_clients.len() as u64,
    );
    gauge(
        "sse_messages_sent_total",
        "counter",
        "Events queued to streams (one per stream reached).",
        c.messages_sent.load(Ordering::Relaxed),
    );
    gauge(
        "sse_streams_opened_total",
        "counter",
        "Streams opened since start.",
        c.streams_opened.load(Ordering::Relaxed),
    );
    gauge(
        "sse_streams_closed_total",
        "counter",
        "Streams closed since start.",
        c.streams_closed.load(Ordering::Relaxed),
    );
    gauge(
        "sse_streams_direct_total",
        "counter",
        "Streams served straight on the socket, as their connection's first request.",
        c.streams_direct.load(Ordering::Relaxed),
    );
    gauge(
        "sse_direct_writes_total",
        "counter",
        "Write calls (writev) that carried frames of direct streams; several queued frames share one.",
        c.direct_writes.load(Ordering::Relaxed),
    );
    gauge(
        "sse_lagged_clients_total",
        "counter",
        "Times a stream's queue overflowed and it was sent `resync`.",
        c.lagged_events.load(Ordering::Relaxed),
    );
    gauge(
        "herald_password_hashes_total",
        "counter",
        "Password hashes and checks run (sign-ins included), each ~19 MiB for a moment.",
        state.hashers.runs(),
    );
    let connections = &state.connections;
    gauge(
        "http_connections_open",
        "gauge",
        "Open client connections, on both paths (HERALD_MAX_CONNECTIONS caps them).",
        connections.open() as u64,
    );
    gauge(
        "http_connections_max",
        "gauge",
        "The connection cap (HERALD_MAX_CONNECTIONS).",
        connections.max() as u64,
    );
    gauge(
        "http_connections_refused_total",
        "counter",
        "Connections answered 503 because the cap was reached.",
        connections.refused(),
    );
    c.publish_to_write.render(
        "sse_publish_to_write_seconds",
        "Time from publishing an event to handing it to a stream's connection.",
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(5));
        let mut out = String::new();
        h.render("x", "help", &mut out);
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }
}
