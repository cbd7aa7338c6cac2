//! The frames a stream has ready go out in one write, one chunk each, and a
//! partial write is resumed where the socket stopped.

use std::{
    io,
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use tokio::{
    io::{AsyncReadExt, AsyncWrite},
    net::{TcpListener, TcpStream},
};

use crate::server::sse::direct::{stream_frames, write_chunks};
use crate::server::{
    delivery::hub::Hub,
    sse::tests::{client, frame},
};

/// A writer that takes at most `per_call` bytes per call, as a socket with a
/// full send buffer does. Past [`TOO_MUCH`] bytes it fails the test, so that
/// a writer that resends forever fails instead of hanging.
struct Trickle {
    per_call: usize,
    out: Vec<u8>,
}

const TOO_MUCH: usize = 1 << 20;

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.per_call);
        self.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        assert!(
            self.out.len() < TOO_MUCH,
            "written more than the frames hold"
        );
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(self.per_call - n);
            self.out.extend_from_slice(&buf[..take]);
            n += take;
            if n == self.per_call {
                break;
            }
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The chunks of a chunked body, up to its last (empty) chunk, which must end it.
fn parse_chunks(mut body: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a size line");
        let size = usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16)
            .expect("a hex size");
        body = &body[line_end + 2..];
        assert_eq!(&body[size..size + 2], b"\r\n", "a chunk ends with CRLF");
        if size == 0 {
            assert!(body.len() == 2, "nothing after the last chunk");
            return chunks;
        }
        chunks.push(body[..size].to_vec());
        body = &body[size + 2..];
    }
}

fn frames() -> Vec<Bytes> {
    // Sizes around the hex digit boundaries, and a burst's worth of them.
    (1..=20)
        .map(|n| Bytes::from(vec![b'a' + (n % 26) as u8; n * n * 13]))
        .collect()
}

async fn written(frames: &[Bytes], per_call: usize) -> (Vec<u8>, u64) {
    let mut out = Trickle {
        per_call,
        out: Vec::new(),
    };
    let writes = AtomicU64::new(0);
    write_chunks(&mut out, frames, &writes).await.unwrap();
    out.out.extend_from_slice(b"0\r\n\r\n");
    (out.out, writes.load(Ordering::Relaxed))
}

#[tokio::test]
async fn ready_frames_go_out_in_one_write_one_chunk_each_in_order() {
    let frames = frames();
    let (body, writes) = written(&frames, usize::MAX).await;
    assert_eq!(writes, 1);
    assert_eq!(parse_chunks(&body), frames);
}

#[tokio::test]
async fn a_partial_write_is_resumed_where_it_stopped() {
    let frames = frames();
    let (whole, _) = written(&frames, usize::MAX).await;
    for per_call in [1, 2, 3, 7, 100, 4093] {
        let (body, writes) = written(&frames, per_call).await;
        assert!(body == whole, "{per_call} bytes per call");
        assert_eq!(writes as usize, (whole.len() - 5).div_ceil(per_call));
    }
}

#[tokio::test]
async fn a_stream_writes_the_frames_it_has_queued_in_one_write() {
    let hub = Hub::new(16, 16);
    // A resume: `connected` and two replayed events queued, then live copies,
    // of which the first two were replayed already.
    let mut stream = client(&hub, vec![frame(100), frame(1), frame(2)], 2);
    for n in 1..=5 {
        hub.publish(&crate::server::delivery::hub::Target::User(1), &frame(n));
    }
    hub.disconnect_user(1);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut reader = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut tcp, _) = listener.accept().await.unwrap();
    let ended = stream_frames(&mut tcp, &mut stream, Duration::from_secs(60)).await;
    assert_eq!(ended, "ended by the server");
    drop(tcp);

    let mut body = Vec::new();
    reader.read_to_end(&mut body).await.unwrap();
    let expected: Vec<Vec<u8>> = [100, 1, 2, 3, 4, 5]
        .map(|n| frame(n).bytes().to_vec())
        .into();
    assert_eq!(parse_chunks(&body), expected);
    assert_eq!(hub.counters().direct_writes.load(Ordering::Relaxed), 1);
}
