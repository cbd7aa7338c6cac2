//! The stream's two paths, byte by byte on raw sockets: a connection whose
//! first request is a stream is answered straight on the socket
//! (`sse::direct`); a stream asked for later on a kept-alive connection, and
//! every refusal, go through the router. Both must look the same on the wire.

use std::sync::atomic::Ordering;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::harness::{eventually, SseReader, TestServer};

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// An HTTP/1.1 client that shows what the server wrote.
pub(crate) struct Raw {
    pub(crate) tcp: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub(crate) async fn connect(server: &TestServer) -> Raw {
        let addr = server.base.trim_start_matches("http://");
        Raw::on(TcpStream::connect(addr).await.unwrap())
    }

    /// A connection the test set up itself (socket options, say).
    pub(crate) fn on(tcp: TcpStream) -> Raw {
        Raw {
            tcp,
            buf: Vec::new(),
        }
    }

    /// Everything read and not yet taken.
    pub(crate) fn received(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) async fn send(&mut self, bytes: &str) {
        self.tcp.write_all(bytes.as_bytes()).await.unwrap();
    }

    /// Reads up to and including `needle`; `None` if the connection ends first.
    pub(crate) async fn until(&mut self, needle: &[u8]) -> Option<Vec<u8>> {
        tokio::time::timeout(DEADLINE, async {
            loop {
                if let Some(at) = self.buf.windows(needle.len()).position(|w| w == needle) {
                    return Some(self.buf.drain(..at + needle.len()).collect());
                }
                let mut more = [0u8; 4096];
                match self.tcp.read(&mut more).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&more[..n]),
                }
            }
        })
        .await
        .expect("the server wrote nothing more within the deadline")
    }

    pub(crate) async fn exactly(&mut self, len: usize) -> Vec<u8> {
        tokio::time::timeout(DEADLINE, async {
            while self.buf.len() < len {
                let mut more = [0u8; 4096];
                let n = self.tcp.read(&mut more).await.unwrap();
                assert!(n > 0, "connection ended early");
                self.buf.extend_from_slice(&more[..n]);
            }
        })
        .await
        .expect("the server wrote too little within the deadline");
        self.buf.drain(..len).collect()
    }

    pub(crate) async fn head(&mut self) -> String {
        String::from_utf8(self.until(b"\r\n\r\n").await.expect("a response head")).unwrap()
    }

    /// The next chunk of a chunked body; `None` for the last (empty) one.
    pub(crate) async fn chunk(&mut self) -> Option<String> {
        let size_line = String::from_utf8(self.until(b"\r\n").await.expect("a chunk")).unwrap();
        let size = usize::from_str_radix(size_line.trim_end(), 16).expect("a chunk size");
        let chunk = self.exactly(size + 2).await;
        assert!(chunk.ends_with(b"\r\n"), "a chunk ends with CRLF");
        (size > 0).then(|| String::from_utf8(chunk[..size].to_vec()).unwrap())
    }

    /// The next chunk that is not a keep-alive.
    pub(crate) async fn event(&mut self) -> String {
        loop {
            let chunk = self.chunk().await.expect("an event, not the end");
            if !chunk.starts_with("event: ping\n") {
                return chunk;
            }
        }
    }

    /// The rest of the stream as an [`SseReader`]: each chunk of the body
    /// in turn, until the last one or the connection's end.
    pub(crate) fn into_sse(self) -> SseReader {
        let chunks = futures_util::stream::unfold(self, |mut raw| async move {
            let chunk = raw.chunk().await?;
            Some((Ok(bytes::Bytes::from(chunk)), raw))
        });
        SseReader::from_body(Default::default(), chunks)
    }

    pub(crate) async fn ended(&mut self) -> bool {
        self.until(b"\0never").await.is_none()
    }
}

pub(crate) fn stream_request(token: &str) -> String {
    stream_request_with("/sse/stream", token, &[])
}

/// A stream request for `target` (path and query) with extra header lines.
pub(crate) fn stream_request_with(target: &str, token: &str, headers: &[(&str, &str)]) -> String {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    format!("GET {target} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n{extra}\r\n")
}

/// A stream asked for as its connection's first request: the direct path.
pub(crate) async fn open_direct(server: &TestServer, token: &str) -> Raw {
    let mut raw = Raw::connect(server).await;
    raw.send(&stream_request(token)).await;
    assert_stream_head(&raw.head().await);
    raw
}

/// A stream asked for after another request on the same kept-alive
/// connection: the router's path.
pub(crate) async fn open_routed(server: &TestServer, token: &str) -> Raw {
    open_routed_with(server, &stream_request(token)).await
}

/// [`open_routed`] for a stream request of the test's own making.
pub(crate) async fn open_routed_with(server: &TestServer, request: &str) -> Raw {
    let mut raw = Raw::connect(server).await;
    raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let head = raw.head().await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(raw.exactly(2).await, b"ok");
    raw.send(request).await;
    assert_stream_head(&raw.head().await);
    raw
}

pub(crate) fn direct_streams(server: &TestServer) -> u64 {
    server
        .state
        .hub
        .counters()
        .streams_direct
        .load(Ordering::Relaxed)
}

pub(crate) fn assert_stream_head(head: &str) {
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let head = head.to_ascii_lowercase();
    for line in [
        "content-type: text/event-stream",
        "cache-control: no-cache, no-store, must-revalidate",
        "connection: keep-alive",
        "x-accel-buffering: no",
        "transfer-encoding: chunked",
    ] {
        assert!(
            head.contains(&format!("\r\n{line}\r\n")),
            "{line} in {head}"
        );
    }
    assert!(!head.contains("content-encoding"), "{head}");
}

#[tokio::test]
async fn a_connections_first_request_for_a_stream_is_served_on_the_socket() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;

    let mut raw = Raw::connect(&server).await;
    // The head arrives in two pieces: the server must wait for the rest.
    let request = stream_request(&alice);
    raw.send(&request[..12]).await;
    raw.tcp.flush().await.unwrap();
    raw.send(&request[12..]).await;

    assert_stream_head(&raw.head().await);
    let connected = raw.chunk().await.unwrap();
    assert!(
        connected.starts_with("retry: 3000\nevent: connected\ndata: {"),
        "{connected:?}"
    );
    assert!(connected.ends_with("}\n\n"), "{connected:?}");
    assert_eq!(direct_streams(&server), 1);

    server.broadcast(&admin, "on the wire").await;
    let event = raw.event().await;
    let lines: Vec<&str> = event.split('\n').collect();
    assert_eq!(lines[0], "event: notification");
    assert!(lines[1].starts_with("id: "), "{event:?}");
    assert!(lines[2].contains(r#""title":"on the wire""#), "{event:?}");
    assert_eq!(&lines[3..], ["", ""]);
}

#[tokio::test]
async fn a_stream_asked_for_after_another_request_goes_through_the_router() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let mut raw = open_routed(&server, &alice).await;
    assert!(raw
        .chunk()
        .await
        .unwrap()
        .starts_with("retry: 3000\nevent: connected\n"));
    assert_eq!(direct_streams(&server), 0);
    assert_eq!(server.state.hub.active_connections(), 1);
}

#[tokio::test]
async fn refusals_on_a_fresh_connection_get_the_routers_answers() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;

    let mut raw = Raw::connect(&server).await;
    raw.send(&stream_request("not-a-token")).await;
    let head = raw.head().await;
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");

    // HTTP/1.0 has no chunked encoding: the router serves it, its own way.
    let mut old = Raw::connect(&server).await;
    old.send(&format!(
        "GET /sse/stream HTTP/1.0\r\nAuthorization: Bearer {alice}\r\n\r\n"
    ))
    .await;
    let head = old.head().await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(!head.contains("chunked"), "{head}");
    assert!(old.until(b"event: connected\n").await.is_some());

    assert_eq!(direct_streams(&server), 0);
}

#[tokio::test]
async fn a_revoked_direct_stream_ends_with_the_last_chunk() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let mut raw = open_direct(&server, &alice).await;
    raw.chunk().await.unwrap();

    let res = server.logout(&alice).await;
    assert_eq!(res.status(), reqwest::StatusCode::NO_CONTENT);
    while let Some(chunk) = raw.chunk().await {
        assert!(chunk.starts_with("event: ping\n"), "{chunk:?}");
    }
    assert!(
        raw.ended().await,
        "the connection closes after the last chunk"
    );
}

#[tokio::test]
async fn a_client_that_leaves_is_unregistered_on_either_path() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let hub = &server.state.hub;
    let direct = open_direct(&server, &alice).await;
    let routed = open_routed(&server, &alice).await;
    assert_eq!(hub.active_connections(), 2);
    assert_eq!(direct_streams(&server), 1);

    drop(direct);
    eventually("the direct stream to be unregistered", async || {
        hub.active_connections() == 1
    })
    .await;
    drop(routed);
    eventually("the routed stream to be unregistered", async || {
        hub.active_connections() == 0
    })
    .await;
}

#[tokio::test]
async fn shutting_down_ends_every_stream_properly() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let mut direct = open_direct(&server, &alice).await;
    let mut routed = open_routed(&server, &alice).await;
    for raw in [&mut direct, &mut routed] {
        raw.chunk().await.expect("connected");
    }

    server.shutdown.notify_one();
    for (path, raw) in [("direct", &mut direct), ("routed", &mut routed)] {
        while let Some(chunk) = raw.chunk().await {
            assert!(chunk.starts_with("event: ping\n"), "{path}: {chunk:?}");
        }
        assert!(raw.ended().await, "{path}: closed after the last chunk");
    }
}
