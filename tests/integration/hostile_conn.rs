//! Hostile connections (issue 11, points 5 and 9), on raw sockets: silent
//! and half-sent heads, too many streams for one user, a client that stops
//! reading, too many connections — each must cost the server a bounded
//! amount, on both paths, while everyone else is still served.

use std::{
    io::Write,
    sync::{atomic::Ordering, Arc, Mutex},
    time::{Duration, Instant},
};

use herald::server::delivery::hub::{EventName, Frame, Target};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};

use crate::{
    harness::{eventually, TestServer},
    wire::{assert_stream_head, direct_streams, open_direct, stream_request, Raw},
};

/// Small enough that a test waits a moment, not the 10 s default.
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);

/// Both settings of the direct path: the accept loop's deadline, and hyper's.
const PATHS: [(&str, &str); 2] = [("direct", "1"), ("router only", "0")];

async fn server_with_header_timeout(direct: &str) -> TestServer {
    let secs = HEADER_TIMEOUT.as_secs_f64().to_string();
    TestServer::start_with(&[
        ("HERALD_HEADER_TIMEOUT_SECS", &secs),
        ("HERALD_DIRECT_STREAMS", direct),
    ])
    .await
}

/// The server closes the connection at the header deadline — not before:
/// `since` is an instant the server's clock cannot have started before (a
/// moment before the connect, whose accept starts it; before the request
/// whose answer starts a kept-alive connection's), so a close sooner than
/// `HEADER_TIMEOUT` after it is an early close — and writes nothing at all:
/// no 400, no 408, nothing (a malformed-request answer is not the deadline).
/// The upper bound is the harness's read deadline.
async fn assert_closed_unanswered_at_the_deadline(raw: &mut Raw, since: Instant, what: &str) {
    assert!(raw.ended().await, "{what}: closed");
    let after = since.elapsed();
    assert!(
        after >= HEADER_TIMEOUT,
        "{what}: closed {after:?} in, before the {HEADER_TIMEOUT:?} deadline"
    );
    let said = String::from_utf8_lossy(raw.received()).to_string();
    assert!(said.is_empty(), "{what}: answered {said:?}");
}

#[tokio::test]
async fn a_silent_connection_is_closed_at_the_header_deadline() {
    for (path, direct) in PATHS {
        let server = server_with_header_timeout(direct).await;
        let since = Instant::now();
        let mut raw = Raw::connect(&server).await;
        assert_closed_unanswered_at_the_deadline(&mut raw, since, path).await;
        eventually("its connection to be let go", async || {
            server.state.connections.open() == 0
        })
        .await;
    }
}

#[tokio::test]
async fn a_half_sent_head_on_a_fresh_connection_is_closed_at_the_deadline() {
    for (path, direct) in PATHS {
        let server = server_with_header_timeout(direct).await;
        // Held by the direct path's reader, then by hyper's.
        for partial in [
            "GET /sse/stream HTTP/1.1\r\nHost: t\r\nAuthori",
            "GET /healthz HTTP/1.1\r\nHo",
        ] {
            let since = Instant::now();
            let mut raw = Raw::connect(&server).await;
            raw.send(partial).await;
            let what = format!("{path}: {partial:?}");
            assert_closed_unanswered_at_the_deadline(&mut raw, since, &what).await;
        }
    }
}

#[tokio::test]
async fn a_kept_alive_router_connection_gets_the_same_deadline_for_its_next_head() {
    let server = server_with_header_timeout("1").await;
    for next in ["", "GET /healthz HTTP/1.1\r\nHo"] {
        let mut raw = Raw::connect(&server).await;
        let since = Instant::now();
        raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let head = raw.head().await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(raw.exactly(2).await, b"ok");
        // Idle, or half of a second request.
        raw.send(next).await;
        let what = format!("then {next:?}");
        assert_closed_unanswered_at_the_deadline(&mut raw, since, &what).await;
    }
}

/// The JSON body of a response whose head was just read.
async fn json_body(raw: &mut Raw, head: &str) -> Value {
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .expect("a content-length")
        .trim()
        .parse()
        .unwrap();
    serde_json::from_slice(&raw.exactly(length).await).expect("a JSON body")
}

#[tokio::test]
async fn the_seventeenth_stream_of_one_user_gets_429_while_others_still_connect() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let alice_id = server.user_id(&alice).await.to_string();

    let mut streams = Vec::new();
    for _ in 0..16 {
        streams.push(open_direct(&server, &alice).await);
    }
    // On a fresh connection (the direct path hands the refusal to the
    // router), and on a kept-alive one.
    let mut fresh = Raw::connect(&server).await;
    fresh.send(&stream_request(&alice)).await;
    let mut kept = Raw::connect(&server).await;
    kept.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert!(kept.head().await.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(kept.exactly(2).await, b"ok");
    kept.send(&stream_request(&alice)).await;
    for raw in [&mut fresh, &mut kept] {
        let head = raw.head().await;
        assert!(
            head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"),
            "{head}"
        );
        assert!(head.contains("content-type: application/json"), "{head}");
        let body = json_body(raw, &head).await;
        assert_eq!(body["success"], false);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("too many open streams"),
            "{body}"
        );
    }
    let stats = server.state.hub.stats();
    assert_eq!(stats.user_clients.get(&alice_id), Some(&16));

    // Others are not affected, and alice gets her place back when one closes.
    let _bob = open_direct(&server, &bob).await;
    streams.pop();
    eventually("alice's closed stream to leave the hub", async || {
        server.state.hub.stats().user_clients.get(&alice_id) == Some(&15)
    })
    .await;
    streams.push(open_direct(&server, &alice).await);
}

/// A connection that will hold very little unread: the server's writes
/// block as soon as its own send buffer is full.
async fn tiny_window(server: &TestServer) -> Raw {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let tcp: TcpStream = socket.connect(addr).await.unwrap();
    Raw::on(tcp)
}

#[tokio::test]
async fn a_stream_whose_client_stopped_reading_is_dropped_at_the_write_timeout() {
    for path in ["direct", "routed"] {
        let server = TestServer::start_with(&[
            ("HERALD_WRITE_TIMEOUT_SECS", "0.5"),
            ("HERALD_CLIENT_QUEUE", "4"),
        ])
        .await;
        let alice = server.token("alice").await;
        let alice_id = server.user_id(&alice).await;
        let hub = &server.state.hub;

        let open_before = server.state.connections.open();
        let mut raw = tiny_window(&server).await;
        if path == "routed" {
            raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
            assert!(raw.head().await.starts_with("HTTP/1.1 200 OK\r\n"));
            assert_eq!(raw.exactly(2).await, b"ok");
        }
        raw.send(&stream_request(&alice)).await;
        assert_stream_head(&raw.head().await);
        raw.chunk().await.expect("connected");
        assert_eq!(direct_streams(&server), u64::from(path == "direct"));

        // From here on the client reads nothing. Publish until the socket
        // is full, the writer stuck on it gives up at the write timeout, and
        // the stream leaves the hub (the stream is written on threads of its
        // own: its queue may overflow long before the socket fills).
        let big = Frame::new(
            &EventName::NOTIFICATION,
            None,
            &json!({ "pad": "x".repeat(64 * 1024) }),
        );
        let lagged_before = hub.counters().lagged_events.load(Ordering::Relaxed);
        eventually(
            &format!("{path}: the stalled stream to leave the hub"),
            async || {
                hub.publish(&Target::User(alice_id), &big);
                hub.stats().total_clients == 0
            },
        )
        .await;
        assert!(
            hub.counters().lagged_events.load(Ordering::Relaxed) > lagged_before,
            "{path}: its queue overflowed while the writer was stuck"
        );
        // And its connection is let go (the kernel still delivers what was
        // written; the harness's own pooled connections only ever close).
        eventually(
            &format!("{path}: its connection to be let go"),
            async || server.state.connections.open() <= open_before,
        )
        .await;
        drop(raw);
    }
}

#[tokio::test]
async fn past_the_connection_cap_a_client_gets_503_until_others_close() {
    const CAP: usize = 4;
    let server = TestServer::start_with(&[("HERALD_MAX_CONNECTIONS", "4")]).await;
    let connections = &server.state.connections;

    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(Raw::connect(&server).await);
    }
    eventually("the server to hold the first connections", async || {
        connections.open() == CAP
    })
    .await;

    let mut refused = Raw::connect(&server).await;
    refused
        .send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let head = refused.head().await;
    assert!(
        head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    for line in [
        "connection: close",
        "retry-after: 1",
        "content-type: application/json",
    ] {
        assert!(
            lower.contains(&format!("\r\n{line}\r\n")),
            "{line} in {head}"
        );
    }
    let body = json_body(&mut refused, &head).await;
    assert_eq!(body["success"], false);
    assert!(refused.ended().await, "closed after the 503");
    assert_eq!(connections.refused(), 1);

    // Served again once one of them leaves.
    drop(held.pop());
    eventually("the closed connection to free its place", async || {
        connections.open() < CAP
    })
    .await;
    let mut next = Raw::connect(&server).await;
    next.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let head = next.head().await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");

    assert!(next.exactly(2).await == b"ok");

    // The numbers an operator sees (the scrape needs a place of its own).
    drop(next);
    drop(held);
    eventually("the connections to close", async || connections.open() == 0).await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("\nhttp_connections_refused_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("\nhttp_connections_max 4\n"), "{metrics}");
}

#[tokio::test]
async fn both_settings_of_the_direct_path_serve_a_stream() {
    for (flag, direct) in [("1", 1), ("0", 0)] {
        let server = TestServer::start_with(&[("HERALD_DIRECT_STREAMS", flag)]).await;
        let alice = server.token("alice").await;
        let admin = server.token("admin").await;
        let mut raw = open_direct(&server, &alice).await;
        let connected = raw.chunk().await.unwrap();
        assert!(
            connected.starts_with("retry: 3000\nevent: connected\n"),
            "{flag}: {connected:?}"
        );
        server.broadcast(&admin, "either way").await;
        assert!(raw.event().await.contains("either way"), "{flag}");
        assert_eq!(
            direct_streams(&server),
            direct,
            "HERALD_DIRECT_STREAMS={flag}"
        );
    }
}

/// Log lines written while the test runs on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[tokio::test]
async fn direct_streams_are_logged_like_router_requests() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    // tracing caches, per call site, whether anyone listens; a call site
    // first reached on another test's thread while the subscriber below
    // registers can miss it. Reach them all once before it does.
    // Read its first event, so that it ends at "end of stream" (not at the
    // head's write, which a client gone that early can make fail).
    let mut warm_up = open_direct(&server, &alice).await;
    warm_up.chunk().await.expect("connected");
    drop(warm_up);
    eventually("the warm-up stream to end", async || {
        server.state.hub.active_connections() == 0
    })
    .await;

    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    // The test's runtime runs every server task on this thread.
    let _logging = tracing::subscriber::set_default(subscriber);
    // And a call site registering on another test's thread while the line
    // above ran may have cached the interest from before it: ask again.
    tracing::callsite::rebuild_interest_cache();

    let alice = server.token("alice").await;
    let mut raw = open_direct(&server, &alice).await;
    raw.chunk().await.expect("connected");
    let client = raw.tcp.local_addr().unwrap();
    assert_eq!(direct_streams(&server), 2, "the warm-up's and this one");

    let span = format!("request{{method=GET uri=/sse/stream version=HTTP/1.1 client={client}}}");
    let text = logs.text();
    let opened = text
        .lines()
        .find(|l| l.contains(&span) && l.contains("finished processing request"))
        .unwrap_or_else(|| panic!("no {span} line in:\n{text}"));
    assert!(opened.contains("status=200"), "{opened}");
    assert!(opened.contains("latency="), "{opened}");
    // A router request's span names its client the same way.
    assert!(
        text.contains("request{method=POST uri=/api/auth/login version=HTTP/1.1 client=127.0.0.1:"),
        "{text}"
    );

    drop(raw);
    eventually("the end of the stream to be logged", async || {
        logs.text().lines().any(|l| {
            l.contains(&span) && l.contains("end of stream") && l.contains("stream_duration=")
        })
    })
    .await;
}
