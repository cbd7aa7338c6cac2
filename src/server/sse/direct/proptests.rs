//! The direct path earns its place: random and mutated request heads, sent
//! on a real loopback connection to [`read_head`] (as the accept loop does),
//! against hyper itself as the oracle (`http1::Builder`, the same parser
//! settings the router's connections use).
//!
//! For every byte sequence:
//! - the direct path takes it only if hyper reads it as a body-less
//!   `GET /sse/stream` in origin form over HTTP/1.1 (no `Content-Length`,
//!   `Transfer-Encoding`, `Upgrade` or `Expect`, and a query the stream
//!   route accepts), and takes every such request unless its head passes
//!   [`MAX_HEAD`] bytes or [`MAX_HEADERS`] headers, or starts with the empty
//!   lines RFC 9112 §2.2 lets a server skip (those go to hyper);
//! - what reaches hyper (the bytes read, then the rest of the socket) is
//!   byte for byte what the client sent;
//! - the classifier never changes its mind as more bytes arrive.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
};

use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use proptest::{prelude::*, sample::Index};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::server::sse::direct::*;

/// What hyper made of the bytes: the request it would hand the router.
async fn hyper_reads(bytes: &[u8]) -> Option<http::request::Parts> {
    let (mut client, server) = tokio::io::duplex(bytes.len() + 1024);
    client.write_all(bytes).await.unwrap();
    drop(client); // what was sent, then the end of the connection
    let seen = Arc::new(Mutex::new(None));
    let service = service_fn({
        let seen = seen.clone();
        move |request: Request<Incoming>| {
            seen.lock().unwrap().get_or_insert(request.into_parts().0);
            async { Ok::<_, Infallible>(Response::new(axum::body::Body::empty())) }
        }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(server), service);
    let _ = tokio::time::timeout(Duration::from_secs(5), connection)
        .await
        .expect("hyper ends once the bytes run out");
    let parts = seen.lock().unwrap().take();
    parts
}

/// The oracle: hyper reads a request the direct path is meant for.
fn is_plain_stream_request(parts: &http::request::Parts) -> bool {
    let uri = &parts.uri;
    parts.method == Method::GET
        && parts.version == Version::HTTP_11
        && uri.scheme().is_none()
        && uri.authority().is_none()
        && uri.path() == STREAM_PATH
        && [
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::UPGRADE,
            header::EXPECT,
        ]
        .iter()
        .all(|name| !parts.headers.contains_key(name))
        && Query::<StreamQuery>::try_from_uri(uri).is_ok()
}

/// Heads the direct path leaves to hyper by design: too long, too many
/// headers, or led by empty lines (which hyper skips; no browser sends them).
fn beyond_direct_limits(bytes: &[u8]) -> bool {
    if bytes.first().is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        return true;
    }
    let mut headers = [httparse::EMPTY_HEADER; 256];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => {
            len > MAX_HEAD || request.headers.len() > MAX_HEADERS
        }
        _ => false,
    }
}

/// What the accept loop does with the bytes: the direct path's verdict,
/// and the bytes the router's hyper would then read.
async fn through_read_head(listener: &TcpListener, bytes: &[u8]) -> (bool, Vec<u8>) {
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut tcp, _) = listener.accept().await.unwrap();
    let sent = bytes.to_vec();
    let sender = tokio::spawn(async move {
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        client // kept open for reading until the test is done
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let (direct, mut handed) = match read_head(&tcp, deadline).await {
        Head::Stream(head) => (parse_request(&head).is_some(), head),
        Head::Other(read) => (false, read),
        Head::Gone => (false, Vec::new()),
    };
    tcp.read_to_end(&mut handed).await.unwrap();
    drop(sender.await.unwrap());
    (direct, handed)
}

/// A stream request as browsers and our clients send it.
fn valid_head() -> impl Strategy<Value = Vec<u8>> {
    let query = prop_oneof![
        Just(""),
        Just("?last_event_id=4"),
        Just("?last_event_id="),
        Just("?x=1&last_event_id=12"),
    ];
    let header = prop_oneof![
        Just("Host: herald.test"),
        Just("Authorization: Bearer abc.def.ghi"),
        Just("Cookie: herald_session=abc; theme=dark"),
        Just("Last-Event-ID: 17"),
        Just("Accept: text/event-stream"),
        Just("Cache-Control: no-cache"),
        Just("User-Agent: Mozilla/5.0 (X11; Linux x86_64)"),
        Just("Connection: keep-alive"),
        Just("X-Forwarded-For: 10.0.0.1"),
    ];
    let line_end = prop_oneof![3 => Just("\r\n"), 1 => Just("\n")];
    (
        query,
        prop::collection::vec(header, 0..6),
        line_end,
        any::<bool>(),
    )
        .prop_map(|(query, headers, eol, pipelined)| {
            let mut head = format!("GET /sse/stream{query} HTTP/1.1{eol}");
            for h in headers {
                head.push_str(h);
                head.push_str(eol);
            }
            head.push_str(eol);
            if pipelined {
                head.push_str("GET /healthz HTTP/1.1\r\n\r\n");
            }
            head.into_bytes()
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipCase(Index),
    Insert(Index, &'static [u8]),
    Replace(Index, u8),
    Remove(Index),
    DuplicateLine(Index),
    AddHeader(&'static str),
    Version(&'static str),
    Target(&'static str),
    Truncate(Index),
    LongHeader(usize),
    ManyHeaders(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::FlipCase),
        (
            any::<Index>(),
            prop_oneof![
                Just(&b" "[..]),
                Just(&b"\t"[..]),
                Just(&b"\r"[..]),
                Just(&b"\n"[..]),
                Just(&b"\r\n"[..]),
                Just(&b"\r\n "[..]), // obs-fold
                Just(&b"\r\n\t"[..]),
                Just(&b"\0"[..]),
                Just(&b"\x7f"[..]),
                Just(&b"\xff"[..]),
                Just(&b":"[..]),
                Just(&b"?"[..]),
                Just(&b"#"[..]),
                Just(&b"%"[..]),
            ]
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        any::<Index>().prop_map(Mutation::Remove),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        prop_oneof![
            Just("Content-Length: 0"),
            Just("Content-Length: 5"),
            Just("content-length:0"),
            Just("Content-Length: -1"),
            Just("Content-Length: 0, 0"),
            Just("Transfer-Encoding: chunked"),
            Just("Transfer-Encoding: identity"),
            Just("transfer-encoding:  gzip, chunked"),
            Just("Content-Length : 0"),
            Just("Upgrade: h2c"),
            Just("Connection: Upgrade, HTTP2-Settings"),
            Just("Expect: 100-continue"),
            Just("Host: a\0b"),
            Just("X-Empty:"),
            Just(" Leading: space"),
        ]
        .prop_map(Mutation::AddHeader),
        prop_oneof![
            Just("HTTP/1.0"),
            Just("HTTP/2.0"),
            Just("HTTP/1.2"),
            Just("HTTP/0.9"),
            Just("http/1.1"),
            Just("HTTP/1.1 "),
            Just("HTTP/11"),
            Just(""),
        ]
        .prop_map(Mutation::Version),
        prop_oneof![
            Just("http://herald.test/sse/stream"),
            Just("https://herald.test/sse/stream?last_event_id=1"),
            Just("herald.test:443"),
            Just("*"),
            Just("/sse/stream/"),
            Just("/sse/streams"),
            Just("/sse/stream#top"),
            Just("/sse/stream?#"),
            Just("//sse/stream"),
            Just("/sse/%73tream"),
            Just("/SSE/stream"),
            Just("/sse/stream?last_event_id=%ZZ"),
            Just("/sse/stream?last_event_id=1&last_event_id=2"),
            Just("/sse/stream?a=b&&=c"),
            Just("/sse/stream?\"<>"),
            Just("/sse/./stream"),
            Just("/sse/stream;x"),
        ]
        .prop_map(Mutation::Target),
        any::<Index>().prop_map(Mutation::Truncate),
        (0usize..12_000).prop_map(Mutation::LongHeader),
        (0usize..48).prop_map(Mutation::ManyHeaders),
    ]
}

/// Inserts a header line right after the request line.
fn add_header_line(head: &mut Vec<u8>, line: &[u8]) {
    let at = head
        .iter()
        .position(|b| *b == b'\n')
        .map_or(head.len(), |i| i + 1);
    let mut bytes = line.to_vec();
    bytes.extend_from_slice(b"\r\n");
    head.splice(at..at, bytes);
}

fn replace_first(head: &mut Vec<u8>, from: &[u8], to: &[u8]) {
    if let Some(at) = head.windows(from.len()).position(|w| w == from) {
        head.splice(at..at + from.len(), to.iter().copied());
    }
}

fn apply(head: &mut Vec<u8>, mutation: &Mutation) {
    let pos = |at: &Index, len: usize| if len == 0 { 0 } else { at.index(len) };
    match mutation {
        Mutation::FlipCase(at) => {
            if !head.is_empty() {
                let i = pos(at, head.len());
                head[i] = if head[i].is_ascii_uppercase() {
                    head[i].to_ascii_lowercase()
                } else {
                    head[i].to_ascii_uppercase()
                };
            }
        }
        Mutation::Insert(at, bytes) => {
            let i = pos(at, head.len() + 1);
            head.splice(i..i, bytes.iter().copied());
        }
        Mutation::Replace(at, b) => {
            if !head.is_empty() {
                let i = pos(at, head.len());
                head[i] = *b;
            }
        }
        Mutation::Remove(at) => {
            if !head.is_empty() {
                head.remove(pos(at, head.len()));
            }
        }
        Mutation::DuplicateLine(at) => {
            let lines: Vec<Vec<u8>> = head
                .split_inclusive(|b| *b == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            if lines.len() > 1 {
                // Any line but the request line, most often a header.
                let i = 1 + pos(at, lines.len() - 1);
                let line = lines[i].clone();
                let mut out: Vec<u8> = lines[..=i].concat();
                out.extend_from_slice(&line);
                out.extend_from_slice(&lines[i + 1..].concat());
                *head = out;
            }
        }
        Mutation::AddHeader(line) => add_header_line(head, line.as_bytes()),
        Mutation::Version(v) => replace_first(head, b"HTTP/1.1", v.as_bytes()),
        Mutation::Target(t) => replace_first(head, b"/sse/stream", t.as_bytes()),
        Mutation::Truncate(at) => {
            let len = pos(at, head.len() + 1);
            head.truncate(len);
        }
        Mutation::LongHeader(n) => {
            let line = format!("X-Long: {}", "a".repeat(*n));
            add_header_line(head, line.as_bytes());
        }
        Mutation::ManyHeaders(n) => {
            for i in 0..*n {
                add_header_line(head, format!("X-H{i}: v").as_bytes());
            }
        }
    }
}

fn any_head() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => valid_head(),
        6 => (valid_head(), prop::collection::vec(mutation(), 1..4)).prop_map(
            |(mut head, mutations)| {
                for m in &mutations {
                    apply(&mut head, m);
                }
                head
            }
        ),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(|tail| {
            let mut head = REQUEST_PREFIX.to_vec();
            head.extend(tail);
            head
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 600,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_direct_path_takes_exactly_what_hyper_reads_as_a_plain_stream_request(
        bytes in any_head()
    ) {
        let rt = runtime();
        let (direct, handed, hyper) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (direct, handed) = through_read_head(&listener, &bytes).await;
            (direct, handed, hyper_reads(&bytes).await)
        });
        let shown = String::from_utf8_lossy(&bytes);
        let oracle = hyper.as_ref().is_some_and(is_plain_stream_request);
        prop_assert!(!direct || oracle, "taken, but hyper reads {hyper:?}: {shown:?}");
        prop_assert!(
            direct || !oracle || beyond_direct_limits(&bytes),
            "a plain stream request left to hyper: {shown:?}"
        );
        prop_assert_eq!(&handed, &bytes, "the bytes read must be the bytes sent");
    }

    #[test]
    fn the_classifier_never_changes_its_mind(bytes in any_head()) {
        let last = (1..=bytes.len()).map(|n| classify(&bytes[..n])).collect::<Vec<_>>();
        if let Some(first_final) = last.iter().position(|v| *v != Verdict::NeedMore) {
            for later in &last[first_final..] {
                prop_assert_eq!(later, &last[first_final], "{:?}", String::from_utf8_lossy(&bytes));
            }
        }
    }
}
