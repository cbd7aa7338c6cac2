//! Herald's accept loop and the life of each connection. A connection's
//! first request is looked at once: a stream is served by
//! [`sse::serve_first_request`] on the bare socket, and every other
//! connection goes on to hyper with the bytes already read put back in
//! front, so it sees them untouched.
//!
//! Limits (all in [`ConnectionLimits`], read from the environment):
//! - **Connections**: at most `max_connections` open at once, both paths
//!   counted (`HERALD_MAX_CONNECTIONS`, default: open-files limit − 256, at
//!   most 50 000). Past it a connection gets a canned `503` with
//!   `Retry-After` and `Connection: close` and is closed within
//!   [`REFUSAL_LINGER`]; at most [`MAX_LINGERING_REFUSALS`] linger at once,
//!   the rest get the 503 in one non-blocking write and are closed at once.
//! - **Request heads**: a whole head within `header_timeout` (default 10 s,
//!   `HERALD_HEADER_TIMEOUT_SECS`) of the accept — a silent socket or a
//!   half-sent head is closed, unanswered, as hyper closes one. On a
//!   kept-alive connection hyper's timer gives each next head (and the idle
//!   time before it) the same deadline. Heads: 8 KB / 32 headers on the
//!   direct path (longer ones go to hyper), hyper's own limits after.
//! - **Writes**: a write the client does not take within `write_timeout`
//!   (default 30 s, `HERALD_WRITE_TIMEOUT_SECS`) ends the connection, and
//!   with it the stream's hub registration; events queued meanwhile go
//!   through the hub's bounded queue (`resync` when it overflows).
//! - **TCP keepalive** on every accepted socket ([`KEEPALIVE`]): a peer
//!   that vanished without a FIN is noticed in about 90 s.
//! - **Accept errors** (EMFILE, ENFILE, …): axum's back-off (1 s) and retry.
//!
//! It must never: wait on a client inside the accept loop (every read and
//! write happens in the connection's own task), or hold a connection with
//! no deadline on the client's next move.

mod io;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use bytes::Bytes;
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use socket2::{SockRef, TcpKeepalive};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

pub use io::{Prefixed, WriteDeadline};

use crate::server::{
    config::ConnectionLimits,
    guard::connections::ConnectionPermit,
    sse::{self, DirectPath, DirectStream, FirstRequest},
    state::AppState,
};

/// 60 s idle, then a probe every 10 s, given up after 3 unanswered.
const KEEPALIVE: TcpKeepalive = TcpKeepalive::new()
    .with_time(Duration::from_secs(60))
    .with_interval(Duration::from_secs(10))
    .with_retries(3);

/// How long a refused connection is kept to deliver its 503 (reading what
/// the client sent meanwhile, so closing does not reset the answer away).
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Refused connections lingering at once: they hold descriptors too, and
/// must fit in the headroom the cap leaves below the open-files limit.
const MAX_LINGERING_REFUSALS: usize = 64;

/// The answer past the connection cap: fixed bytes, nothing to allocate
/// (the `ErrorBody` of `AppError::Unavailable`, which a test holds it to).
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 65\r\n\
\r\n\
{\"success\":false,\"error\":\"the server is busy, try again shortly\"}";

/// What every connection task shares.
pub struct Shared {
    pub state: AppState,
    pub router: Router,
    pub limits: ConnectionLimits,
    /// Cancelled when the server shuts down.
    pub stop: CancellationToken,
    /// Router connections, which shutdown waits for.
    pub routed: TaskTracker,
    /// Streams served on the socket, which shutdown waits for (briefly).
    pub direct_streams: TaskTracker,
    /// Refused connections still delivering their 503.
    pub lingering_refusals: AtomicUsize,
}

/// Accepts connections until `shared.stop` is cancelled.
pub async fn accept_loop(mut listener: TcpListener, shared: Arc<Shared>) {
    loop {
        // axum's own accept: retries, and backs off when out of file descriptors.
        let accepted = tokio::select! {
            accepted = <TcpListener as axum::serve::Listener>::accept(&mut listener) => accepted,
            _ = shared.stop.cancelled() => return,
        };
        let (tcp, peer) = accepted;
        match shared.state.connections.try_open() {
            Some(permit) => {
                tokio::spawn(serve_connection(tcp, peer, permit, shared.clone()));
            }
            None => {
                tracing::warn!(client = %peer, "connection cap reached: answered 503");
                refuse(tcp, &shared);
            }
        }
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: ConnectionPermit,
    shared: Arc<Shared>,
) {
    set_keepalive(&tcp);
    let (tcp, read) = if shared.limits.direct_streams {
        let path = DirectPath {
            state: &shared.state,
            limits: &shared.limits,
            stop: &shared.stop,
        };
        match sse::serve_first_request(path, tcp, peer).await {
            FirstRequest::Done => return,
            FirstRequest::Stream(stream) => return run_on_stream_workers(stream, permit, &shared),
            FirstRequest::ForRouter(tcp, read) => (tcp, read),
        }
    } else {
        (tcp, Bytes::new())
    };
    let _routed = shared.routed.token();
    serve_with_hyper(Prefixed::new(read, tcp), peer, &shared).await;
    drop(permit);
}

/// The stream leaves this runtime for the stream workers
/// (`net::stream_workers`), taking its connection permit and its place in
/// what shutdown waits for.
fn run_on_stream_workers(stream: DirectStream, permit: ConnectionPermit, shared: &Shared) {
    let counted = shared.direct_streams.token();
    let run = async move {
        let _permit = permit;
        let _counted = counted;
        stream.run().await;
    };
    if let Err(e) = shared.state.stream_workers.spawn(run) {
        tracing::error!(error = %e, "cannot start the stream workers: stream closed");
    }
}

/// hyper with a timer: its header deadline covers the head it is handed
/// and every later one on the connection, idle time included.
async fn serve_with_hyper(io: Prefixed<TcpStream>, peer: SocketAddr, shared: &Shared) {
    let io = TokioIo::new(WriteDeadline::new(io, shared.limits.write_timeout));
    // What `into_make_service_with_connect_info` does: handlers (the login
    // route, server functions) read the peer through `ConnectInfo`.
    let service = shared
        .router
        .clone()
        .map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_timeout)
        .keep_alive(true)
        .serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = shared.stop.cancelled() => {
            // Finish the request in flight, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(client = %peer, error = %e, "connection ended");
    }
}

fn set_keepalive(tcp: &TcpStream) {
    if let Err(e) = SockRef::from(tcp).set_tcp_keepalive(&KEEPALIVE) {
        tracing::debug!(error = %e, "cannot set TCP keepalive");
    }
}

/// Answers 503 and closes, within [`REFUSAL_LINGER`] whatever the client
/// does; at once when too many refusals linger already.
fn refuse(tcp: TcpStream, shared: &Arc<Shared>) {
    let lingering = &shared.lingering_refusals;
    if lingering.fetch_add(1, Ordering::AcqRel) >= MAX_LINGERING_REFUSALS {
        lingering.fetch_sub(1, Ordering::AcqRel);
        // A fresh socket's send buffer always has room for these few bytes.
        let _ = tcp.try_write(REFUSAL);
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        linger_with_refusal(tcp).await;
        shared.lingering_refusals.fetch_sub(1, Ordering::AcqRel);
    });
}

async fn linger_with_refusal(mut tcp: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        tcp.write_all(REFUSAL).await?;
        tcp.shutdown().await?;
        // Read until the client closes: closing with its request unread
        // would send a reset, which can discard the 503 before it is read.
        let mut sink = [0u8; 512];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_http_response() {
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head_len) = response.parse(REFUSAL).unwrap() else {
            panic!("incomplete head");
        };
        assert_eq!(response.code, Some(503));
        let length: usize = response
            .headers
            .iter()
            .find(|h| h.name == "content-length")
            .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
            .unwrap();
        assert_eq!(REFUSAL.len() - head_len, length);
        // Written by hand (nothing to allocate), so held here to the type
        // every other refusal is serialised from, and to the 503's message.
        let expected =
            crate::model::ErrorBody::new(crate::model::AppError::Unavailable.to_string());
        assert_eq!(&REFUSAL[head_len..], serde_json::to_vec(&expected).unwrap());
    }

    #[tokio::test]
    async fn accepted_sockets_get_tcp_keepalive() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        set_keepalive(&tcp);
        let socket = SockRef::from(&tcp);
        assert!(socket.keepalive().unwrap());
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(60)
        );
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 3);
    }
}
