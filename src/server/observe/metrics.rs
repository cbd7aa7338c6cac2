//! Prometheus text exposition of this instance's numbers (served by
//! `http::metrics`, which decides who may read them).

use std::{fmt::Write, sync::atomic::Ordering};

use crate::server::state::AppState;

pub fn render(state: &AppState) -> String {
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
    let connections = &state.connections;
    // (name, type, help, value): one line each, in the order scrapers have seen.
    let groups = state.publisher.counts();
    let series: [(&str, &str, &str, u64); 17] = [
        ("sse_active_connections", "gauge", "Open SSE streams.", hub.active_connections() as u64),
        ("sse_active_users", "gauge", "Users with at least one open stream.", hub.stats().user_clients.len() as u64),
        ("herald_live_counters", "gauge", "Users whose unread count is kept in memory (online, or lingering after their last stream).", hub.live_users() as u64),
        ("herald_counters_seeded_total", "counter", "Unread counters seeded from the store (a user's first stream on this instance).", c.counters_seeded.load(Ordering::Relaxed)),
        ("herald_counters_reused_total", "counter", "Streams that found their user's counter in memory (another tab, a reconnect).", c.counters_reused.load(Ordering::Relaxed)),
        ("sse_messages_sent_total", "counter", "Events queued to streams (one per stream reached).", c.messages_sent.load(Ordering::Relaxed)),
        ("sse_streams_opened_total", "counter", "Streams opened since start.", c.streams_opened.load(Ordering::Relaxed)),
        ("sse_streams_closed_total", "counter", "Streams closed since start.", c.streams_closed.load(Ordering::Relaxed)),
        ("sse_streams_direct_total", "counter", "Streams served straight on the socket, as their connection's first request.", c.streams_direct.load(Ordering::Relaxed)),
        ("sse_direct_writes_total", "counter", "Write calls (writev) that carried frames of direct streams; several queued frames share one.", c.direct_writes.load(Ordering::Relaxed)),
        ("sse_lagged_clients_total", "counter", "Times a stream's queue overflowed and it was sent `resync`.", c.lagged_events.load(Ordering::Relaxed)),
        ("herald_publish_turns_total", "counter", "Publishing turns committed (a send, a read, a removal…).", groups.turns.load(Ordering::Relaxed)),
        ("herald_publish_commits_total", "counter", "Transactions those turns were committed in: turns that queued behind one another share one (group commit).", groups.commits.load(Ordering::Relaxed)),
        ("herald_password_hashes_total", "counter", "Password hashes and checks run (sign-ins included), each ~19 MiB for a moment.", state.hashers.runs()),
        ("http_connections_open", "gauge", "Open client connections, on both paths (HERALD_MAX_CONNECTIONS caps them).", connections.open() as u64),
        ("http_connections_max", "gauge", "The connection cap (HERALD_MAX_CONNECTIONS).", connections.max() as u64),
        ("http_connections_refused_total", "counter", "Connections answered 503 because the cap was reached.", connections.refused()),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    c.publish_to_write.render(
        "sse_publish_to_write_seconds",
        "Time from publishing an event to handing it to a stream's connection.",
        &mut out,
    );
    out
}
