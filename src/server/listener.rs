//! Herald's accept loop. Each new connection's first request is looked at
//! once: a stream is served by [`sse::serve_first_request`] on the bare
//! socket, and every other connection goes on to axum and hyper with the
//! bytes already read put back in front, so they see it untouched.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::AbortHandle,
};
use tokio_util::task::TaskTracker;

use super::{
    sse::{self, FirstRequest},
    state::AppState,
};

/// Connections handed to hyper and not yet picked up; axum takes them as
/// fast as they come, so this only absorbs bursts.
const HANDOFF_QUEUE: usize = 1024;

type Handoff = (Prefixed<TcpStream>, SocketAddr);

/// An [`axum::serve::Listener`] that yields only the connections the router
/// must serve.
pub struct HeraldListener {
    for_router: mpsc::Receiver<Handoff>,
    local_addr: SocketAddr,
    accept_loop: AbortHandle,
}

impl HeraldListener {
    /// `direct_streams` counts the streams served on the socket, so that
    /// shutdown can wait for them.
    pub fn new(
        listener: TcpListener,
        state: AppState,
        direct_streams: TaskTracker,
    ) -> io::Result<HeraldListener> {
        let local_addr = listener.local_addr()?;
        let (to_router, for_router) = mpsc::channel(HANDOFF_QUEUE);
        let accept_loop = tokio::spawn(accept_loop(
            listener,
            Arc::new(state),
            direct_streams,
            to_router,
        ));
        Ok(HeraldListener {
            for_router,
            local_addr,
            accept_loop: accept_loop.abort_handle(),
        })
    }
}

impl Drop for HeraldListener {
    /// axum drops its listener when it stops accepting (graceful shutdown).
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl axum::serve::Listener for HeraldListener {
    type Io = Prefixed<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> Handoff {
        match self.for_router.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    mut listener: TcpListener,
    state: Arc<AppState>,
    direct_streams: TaskTracker,
    to_router: mpsc::Sender<Handoff>,
) {
    loop {
        // axum's own accept: retries, and backs off when out of file descriptors.
        let (tcp, addr) = <TcpListener as axum::serve::Listener>::accept(&mut listener).await;
        let state = state.clone();
        let direct_streams = direct_streams.clone();
        let to_router = to_router.clone();
        tokio::spawn(async move {
            let first = sse::serve_first_request(state, &direct_streams, tcp).await;
            if let FirstRequest::ForRouter(tcp, read) = first {
                // Fails only once the server has stopped accepting.
                let _ = to_router.send((Prefixed::new(read, tcp), addr)).await;
            }
        });
    }
}

/// A connection with bytes already read from it, which reads return first.
pub struct Prefixed<T> {
    prefix: Bytes,
    inner: T,
}

impl<T> Prefixed<T> {
    pub fn new(prefix: Bytes, inner: T) -> Prefixed<T> {
        Prefixed { prefix, inner }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Prefixed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix[..n]);
        this.prefix.advance(n);
        if this.prefix.is_empty() {
            // Let the buffer go rather than keep it for the connection's life.
            this.prefix = Bytes::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Prefixed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn reads_return_the_prefix_first_then_the_connection() {
        let rest: &[u8] = b" world";
        let mut io = Prefixed::new(Bytes::from_static(b"hello"), rest);
        let mut small = [0u8; 3];
        assert_eq!(io.read(&mut small).await.unwrap(), 3);
        assert_eq!(&small, b"hel");
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"lo world");
    }
}
