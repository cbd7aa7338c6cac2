//! The lean path: a connection whose first request is `GET /sse/stream` is
//! answered here, straight on the socket, instead of through hyper.
//!
//! Why: an open stream spends its life idle, and hyper keeps an 8 KB read
//! buffer and an 8 KB write buffer for every connection it serves, which is
//! most of what an idle stream costs. Here a stream owns its socket, its hub
//! queue and a small task; every frame is written from the one shared copy
//! the hub encoded, with chunked framing around it.
//!
//! Only the success path lives here. Anything else — not a stream request,
//! not HTTP/1.1, a body or an upgrade, a bad token, a failed query, a user
//! at their stream cap — goes to the router with the bytes already read, so
//! every refusal is answered by the same code as on any other connection.
//!
//! Limits:
//! - the head: [`MAX_HEAD`] bytes and [`MAX_HEADERS`] headers (more goes
//!   to hyper, which has its own limits), complete within the header
//!   timeout counted from the accept, first byte included; past it the
//!   connection is closed unanswered, as hyper closes one;
//! - nothing is allocated before the first byte arrives;
//! - the frames queued when a stream wakes go out together, one chunk each,
//!   in one `writev`: at most [`BATCH_FRAMES`] frames or about
//!   [`BATCH_BYTES`] bytes;
//! - each such write (and the response head) must be taken by the client
//!   within the write timeout, or the stream ends and leaves the hub;
//! - a stream is taken here only when hyper would read the same bytes as a
//!   body-less `GET /sse/stream` in origin form over HTTP/1.1 (the property
//!   test in `direct/proptests.rs` holds it to that);
//! - `HERALD_DIRECT_STREAMS=0` turns this path off (`net/listener`).
//!
//! It must never: answer anything but a stream's success, or hand hyper
//! bytes other than those the client sent.

use std::{
    future::poll_fn,
    io::{self, IoSlice, Write as _},
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use axum::extract::Query;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};
use tokio::{
    io::{AsyncWrite, AsyncWriteExt},
    net::TcpStream,
    time::{timeout, timeout_at, Instant},
};
use tracing::Instrument;

use crate::server::sse::{open, resume_point, ClientStream, StreamQuery, STREAM_HEADERS};

use tokio_util::sync::CancellationToken;

use crate::server::{
    auth::stream_ticket::authenticate_stream, config::ConnectionLimits, observe::request_span,
    state::AppState,
};

/// What the direct path needs from the server that runs it.
pub struct DirectPath<'a> {
    pub state: &'a AppState,
    pub limits: &'a ConnectionLimits,
    /// Cancelled when the server shuts down.
    pub stop: &'a CancellationToken,
}

const STREAM_PATH: &str = "/sse/stream";
const REQUEST_PREFIX: &[u8] = b"GET /sse/stream";
/// A stream request's head is a few hundred bytes (a cookie or a bearer
/// token). A longer one goes to hyper, which has its own limits.
const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 32;
/// A burst (a broadcast, a replay) wakes a stream with several frames
/// queued; one `writev` for all of them is one syscall instead of one per
/// frame. The bounds keep a write's iovecs (three per frame) well under
/// `IOV_MAX` (1024) and one stream's turn short.
const BATCH_FRAMES: usize = 64;
const BATCH_BYTES: usize = 64 * 1024;

/// What became of a connection's first request.
pub enum FirstRequest {
    /// A connection that closed before sending a request, or a stream
    /// that could not start after all.
    Done,
    /// A stream that passed authentication and is attached to the hub:
    /// [`DirectStream::run`] writes it, on the stream workers.
    Stream(DirectStream),
    /// For the router: the connection and the bytes already read from it.
    ForRouter(TcpStream, Bytes),
}

/// Reads the first request head of a fresh connection and serves it here if
/// it opens a stream that passes authentication.
pub async fn serve_first_request(
    path: DirectPath<'_>,
    tcp: TcpStream,
    peer: SocketAddr,
) -> FirstRequest {
    let deadline = Instant::now() + path.limits.header_timeout;
    let head = tokio::select! {
        head = read_head(&tcp, deadline) => head,
        // Shutting down: a connection that has not asked for anything yet is just closed.
        _ = path.stop.cancelled() => Head::Gone,
    };
    let head = match head {
        Head::Stream(head) => head,
        Head::Other(bytes) => return FirstRequest::ForRouter(tcp, bytes.into()),
        Head::Gone => return FirstRequest::Done,
    };
    let Some(request) = parse_request(&head) else {
        return FirstRequest::ForRouter(tcp, head.into());
    };
    let span = request_span::request_span(&Method::GET, &request.uri, Version::HTTP_11, Some(peer));
    // A page on an allowed other origin reads the stream through CORS, as
    // the router's layer would answer it (`guard::cors`).
    let allow_origin = request
        .headers
        .get(header::ORIGIN)
        .filter(|origin| path.state.config.allowed_origins.allows(origin))
        .cloned();
    // Boxed so that the authentication and start-up queries, which are large
    // futures, do not size the task every open stream keeps.
    let opened = Box::pin(open_for(path.state, request))
        .instrument(span.clone())
        .await;
    let Some(client) = opened else {
        return FirstRequest::ForRouter(tcp, head.into());
    };
    // Out of this runtime's reactor: the stream workers register it with theirs.
    match tcp.into_std() {
        Ok(tcp) => FirstRequest::Stream(DirectStream {
            tcp,
            client,
            span,
            write_timeout: path.limits.write_timeout,
            allow_origin,
        }),
        Err(e) => {
            tracing::debug!(parent: &span, error = %e, "stream socket lost before its first write");
            FirstRequest::Done
        }
    }
}

/// An authenticated stream on its socket, to be written from the stream
/// workers (`net::stream_workers`).
pub struct DirectStream {
    tcp: std::net::TcpStream,
    client: ClientStream,
    span: tracing::Span,
    write_timeout: Duration,
    /// `Access-Control-Allow-Origin` for the head, when the request came
    /// from an allowed other origin.
    allow_origin: Option<HeaderValue>,
}

impl DirectStream {
    /// Writes the stream until it ends. Must run on the runtime that is to
    /// drive the socket: it registers there.
    pub async fn run(self) {
        let DirectStream {
            tcp,
            client,
            span,
            write_timeout,
            allow_origin,
        } = self;
        let head = response_head(SystemTime::now(), allow_origin.as_ref());
        match TcpStream::from_std(tcp) {
            Ok(tcp) => {
                write_stream(tcp, client, head, write_timeout)
                    .instrument(span)
                    .await
            }
            Err(e) => tracing::debug!(parent: &span, error = %e, "stream socket not registered"),
        }
    }
}

enum Head {
    /// A complete `GET /sse/stream` request head (and anything after it).
    Stream(Vec<u8>),
    /// Anything else, as far as it was read.
    Other(Vec<u8>),
    /// Closed, failed, or out of time before a whole head arrived.
    Gone,
}

/// Reads until the head is complete, it is clearly not a stream request,
/// or `deadline` (for the whole head, first byte included) passes.
async fn read_head(tcp: &TcpStream, deadline: Instant) -> Head {
    // Wait for the first bytes before allocating anything: an idle
    // (pre)connection costs no buffer here.
    let mut buf = Vec::new();
    loop {
        let Ok(ready) = timeout_at(deadline, tcp.readable()).await else {
            // Silent, or a head sent too slowly: closed, as hyper would.
            return Head::Gone;
        };
        if ready.is_err() {
            return Head::Gone;
        }
        if buf.capacity() - buf.len() < 512 {
            buf.reserve(1024);
        }
        match tcp.try_read_buf(&mut buf) {
            Ok(0) if buf.is_empty() => return Head::Gone,
            Ok(0) => return Head::Other(buf),
            Ok(_) => match classify(&buf) {
                Verdict::NeedMore => {}
                Verdict::Stream => return Head::Stream(buf),
                Verdict::Other => return Head::Other(buf),
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) if buf.is_empty() => return Head::Gone,
            Err(_) => return Head::Other(buf),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    NeedMore,
    Stream,
    Other,
}

/// Decides from as few bytes as possible: most connections are told apart
/// by their first read.
fn classify(buf: &[u8]) -> Verdict {
    let n = buf.len().min(REQUEST_PREFIX.len());
    if buf[..n] != REQUEST_PREFIX[..n] {
        return Verdict::Other;
    }
    match buf.get(REQUEST_PREFIX.len()) {
        None => return Verdict::NeedMore,
        // The path ends there: a query, a fragment (hyper drops it), or the version.
        Some(b' ' | b'?' | b'#') => {}
        Some(_) => return Verdict::Other,
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    // The same verdict however the head is cut into reads: past MAX_HEAD it
    // is hyper's, whether it arrived whole or not.
    match httparse::Request::new(&mut headers).parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => Verdict::Stream,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Verdict::NeedMore,
        _ => Verdict::Other,
    }
}

/// The parts of a stream request the stream needs.
struct StreamRequest {
    uri: Uri,
    headers: HeaderMap,
    query: StreamQuery,
}

/// `None` for anything this path leaves to the router.
fn parse_request(head: &[u8]) -> Option<StreamRequest> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut raw);
    let httparse::Status::Complete(_) = request.parse(head).ok()? else {
        return None;
    };
    // HTTP/1.0 has no chunked encoding.
    if request.method != Some("GET") || request.version != Some(1) {
        return None;
    }
    let uri: Uri = request.path?.parse().ok()?;
    if uri.path() != STREAM_PATH {
        return None;
    }
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        headers.append(
            HeaderName::from_bytes(h.name.as_bytes()).ok()?,
            HeaderValue::from_bytes(h.value).ok()?,
        );
    }
    // A body, an upgrade or an expectation is the router's business.
    let unusual = [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::EXPECT,
    ];
    if unusual.iter().any(|name| headers.contains_key(name)) {
        return None;
    }
    let Query(query) = Query::<StreamQuery>::try_from_uri(&uri).ok()?;
    Some(StreamRequest {
        uri,
        headers,
        query,
    })
}

/// Authenticates and opens the stream; `None` leaves the answer to the router
/// (which authenticates again and answers 401, 400, 429 or 500 as usual).
///
/// A ticket is taken by the first attempt: should the stream then fail to
/// open here (the user at their stream cap), the router's second look finds
/// it used and answers 401 rather than 429. The client fetches a new ticket
/// either way.
async fn open_for(state: &AppState, request: StreamRequest) -> Option<ClientStream> {
    let ticket = request.query.ticket.as_deref();
    let session = authenticate_stream(state, &request.headers, ticket)
        .await
        .ok()?;
    let page_events = request.query.page_events();
    let resume_after = resume_point(&request.headers, request.query);
    open(state, session, resume_after, page_events).await.ok()
}

/// Writes the response until the hub ends the stream, the client leaves, or
/// a write waits longer than `write_timeout` for the client to read.
async fn write_stream(
    mut tcp: TcpStream,
    mut client: ClientStream,
    head: Vec<u8>,
    write_timeout: Duration,
) {
    let started = Instant::now();
    // Counted before anything is written: a client that sees the head sees it counted.
    client
        .hub
        .counters()
        .streams_direct
        .fetch_add(1, Ordering::Relaxed);
    // Each write is whole events (a wake's worth): send it now rather than wait to coalesce.
    let _ = tcp.set_nodelay(true);
    if !matches!(
        timeout(write_timeout, tcp.write_all(&head)).await,
        Ok(Ok(()))
    ) {
        tracing::debug!("client gone before the response head");
        return;
    }
    tracing::debug!(
        latency = %request_span::millis(started.elapsed()),
        status = 200,
        "finished processing request"
    );
    let ended = stream_frames(&mut tcp, &mut client, write_timeout).await;
    tracing::debug!(
        stream_duration = %request_span::millis(started.elapsed()),
        ended,
        "end of stream"
    );
}

/// Writes frames until the stream ends; says how it ended.
async fn stream_frames(
    tcp: &mut TcpStream,
    client: &mut ClientStream,
    write_timeout: Duration,
) -> &'static str {
    let mut batch = Vec::new();
    loop {
        // One future per wake, polled without registering and dropping a
        // readiness waiter for every frame.
        let next = poll_fn(|cx| {
            if let Poll::Ready(()) = poll_client_gone(tcp, cx) {
                return Poll::Ready(None);
            }
            client
                .poll_batch(cx, &mut batch, BATCH_FRAMES, BATCH_BYTES)
                .map(Some)
        })
        .await;
        match next {
            Some(Some(())) => {
                let writes = &client.hub.counters().direct_writes;
                let written = timeout(write_timeout, write_chunks(tcp, &batch, writes)).await;
                // Frames and buffer both go: an idle stream holds no batch.
                batch = Vec::new();
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return "client gone",
                    Err(_) => return "write timeout",
                }
            }
            // The hub ended it (revoked, or shutting down): end the body properly.
            Some(None) => {
                let _ = timeout(write_timeout, async {
                    tcp.write_all(b"0\r\n\r\n").await?;
                    tcp.shutdown().await
                })
                .await;
                return "ended by the server";
            }
            // The client left.
            None => return "client gone",
        }
    }
}

/// Ready once the client has closed (or broken) the connection. A stream's
/// client sends nothing after its request; stray bytes are read and dropped.
fn poll_client_gone(tcp: &TcpStream, cx: &mut Context<'_>) -> Poll<()> {
    let mut scratch = [0u8; 64];
    loop {
        match tcp.poll_read_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(_)) => return Poll::Ready(()),
            Poll::Ready(Ok(())) => match tcp.try_read(&mut scratch) {
                Ok(0) => return Poll::Ready(()),
                // Stray bytes, or a spurious wake-up: look again (which
                // re-registers for the next readiness once drained).
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Poll::Ready(()),
            },
        }
    }
}

fn response_head(now: SystemTime, allow_origin: Option<&HeaderValue>) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in STREAM_HEADERS {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if let Some(origin) = allow_origin {
        // One of the configured origins, matched byte for byte: never the
        // request's bytes unchecked.
        head.extend_from_slice(b"access-control-allow-origin: ");
        head.extend_from_slice(origin.as_bytes());
        head.extend_from_slice(b"\r\nvary: origin\r\n");
    }
    head.extend_from_slice(b"transfer-encoding: chunked\r\n");
    head.extend_from_slice(format!("date: {}\r\n\r\n", httpdate::fmt_http_date(now)).as_bytes());
    head
}

/// Each frame as its own chunk of the chunked body, all in one `writev`
/// where the socket takes them; counts the write calls in `writes`.
///
/// One chunk per frame rather than one chunk per write: it costs ~6 bytes a
/// frame, and keeps a chunk one whole event, which the wire tests (and anyone
/// reading the raw body) rely on; what saves is the syscall, not the bytes.
async fn write_chunks<W: AsyncWrite + Unpin>(
    out: &mut W,
    frames: &[Bytes],
    writes: &AtomicU64,
) -> io::Result<()> {
    // All size lines in one buffer; each ends with the only `\n` it holds.
    let mut sizes = Vec::with_capacity(frames.len() * 6);
    for frame in frames {
        write!(sizes, "{:x}\r\n", frame.len())?;
    }
    let mut parts = Vec::with_capacity(frames.len() * 3);
    for (size, frame) in sizes.split_inclusive(|&b| b == b'\n').zip(frames) {
        parts.extend([
            IoSlice::new(size),
            IoSlice::new(frame),
            IoSlice::new(b"\r\n"),
        ]);
    }
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        writes.fetch_add(1, Ordering::Relaxed);
        let written = out.write_vectored(parts).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        // A partial write: resume where the socket stopped.
        IoSlice::advance_slices(&mut parts, written);
    }
    Ok(())
}

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &[u8] =
        b"GET /sse/stream?last_event_id=4 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n";

    #[test]
    fn most_requests_are_told_apart_by_their_first_bytes() {
        assert_eq!(classify(b"POST /api"), Verdict::Other);
        assert_eq!(classify(b"GET /login HTTP/1.1\r\n"), Verdict::Other);
        assert_eq!(
            classify(b"GET /sse/streams HTTP/1.1\r\n\r\n"),
            Verdict::Other
        );
        assert_eq!(classify(b"PRI * HTTP/2.0\r\n"), Verdict::Other);
        assert_eq!(classify(b"GE"), Verdict::NeedMore);
        assert_eq!(classify(b"GET /sse/stream"), Verdict::NeedMore);
    }

    #[test]
    fn a_stream_request_is_read_to_the_end_of_its_head() {
        for cut in [20, FULL.len() - 1] {
            assert_eq!(classify(&FULL[..cut]), Verdict::NeedMore, "cut at {cut}");
        }
        assert_eq!(classify(FULL), Verdict::Stream);
        // Bytes pipelined after the head do not matter.
        assert_eq!(
            classify(&[FULL, b"GET / HTTP/1.1\r\n"].concat()),
            Verdict::Stream
        );
    }

    #[test]
    fn an_endless_or_broken_head_goes_to_hyper() {
        let mut long = b"GET /sse/stream HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD, b'a');
        assert_eq!(classify(&long), Verdict::Other);
        assert_eq!(classify(b"GET /sse/stream \x01\r\n\r\n"), Verdict::Other);
        // Empty lines before the request line: hyper skips them and serves
        // the stream through the router (found by the proptest in CI).
        assert_eq!(
            classify(b"\nGET /sse/stream HTTP/1.1\r\n\r\n"),
            Verdict::Other
        );
    }

    #[test]
    fn only_plain_http11_stream_requests_are_taken() {
        let request = parse_request(FULL).expect("a stream request");
        assert_eq!(request.headers["authorization"], "Bearer t");
        assert_eq!(request.query.last_event_id.as_deref(), Some("4"));

        for head in [
            &b"GET /sse/stream HTTP/1.0\r\n\r\n"[..],
            b"GET /sse/stream/x HTTP/1.1\r\n\r\n",
            b"GET /sse/stream HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            b"GET /sse/stream HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /sse/stream HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /sse/stream HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        ] {
            assert!(
                parse_request(head).is_none(),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn the_response_head_has_the_stream_headers_and_chunked_framing() {
        let head = String::from_utf8(response_head(SystemTime::UNIX_EPOCH, None)).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        for (name, value) in STREAM_HEADERS {
            assert!(head.contains(&format!("\r\n{name}: {value}\r\n")), "{head}");
        }
        assert!(head.contains("\r\ntransfer-encoding: chunked\r\n"));
        assert!(head.ends_with("\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n"));
        assert!(!head.contains("access-control"), "{head}");

        let origin = HeaderValue::from_static("http://127.0.0.1:5173");
        let head = String::from_utf8(response_head(SystemTime::UNIX_EPOCH, Some(&origin))).unwrap();
        assert!(
            head.contains(
                "\r\naccess-control-allow-origin: http://127.0.0.1:5173\r\nvary: origin\r\n"
            ),
            "{head}"
        );
        assert!(head.ends_with("\r\n\r\n"));
    }
}
