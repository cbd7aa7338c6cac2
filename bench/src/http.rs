//! A keep-alive HTTP/1.1 connection for plain requests (JSON in, status and
//! body out), on the same hand-rolled wire parsing as the SSE subscribers.
//! Loopback only, one request at a time per connection; the caller bounds
//! each request with a timeout.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::wire::{self, Dechunker};

/// An answered request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One client connection, opened lazily and reopened after the server closed it.
pub struct HttpConn {
    server: SocketAddr,
    /// The loopback address requests come from (`127.0.0.x`): servers that
    /// count by client address see different clients.
    source: Option<Ipv4Addr>,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
}

impl HttpConn {
    pub fn new(server: SocketAddr, source: Option<Ipv4Addr>) -> HttpConn {
        HttpConn {
            server,
            source,
            conn: None,
            buf: Vec::new(),
        }
    }

    /// Drops the connection (e.g. after a timeout left an answer half read).
    pub fn reset(&mut self) {
        self.conn = None;
        self.buf.clear();
    }

    /// Sends `method path` with an optional Bearer token and JSON body. One
    /// retry on a fresh connection covers a keep-alive the server closed
    /// while idle (the requests here are either idempotent or were never
    /// written: a write error or an immediate EOF is what triggers it).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let reused = self.conn.is_some();
        match self.try_request(method, path, bearer, body).await {
            Ok(reply) => Ok(reply),
            Err(e) if reused && e.retryable => {
                self.conn = None;
                self.try_request(method, path, bearer, body)
                    .await
                    .map_err(|e| e.msg)
            }
            Err(e) => {
                self.conn = None;
                Err(e.msg)
            }
        }
    }

    async fn try_request(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Result<Reply, AttemptError> {
        if self.conn.is_none() {
            let stream = connect(self.server, self.source)
                .await
                .map_err(|e| AttemptError::fatal(format!("connect: {e}")))?;
            self.conn = Some(stream);
            self.buf.clear();
        }
        let conn = self.conn.as_mut().expect("connected above");
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.server);
        if let Some(token) = bearer {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "POST" {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        conn.write_all(request.as_bytes())
            .await
            .map_err(|e| AttemptError::retryable(format!("write: {e}")))?;

        let mut chunk = [0u8; 8192];
        let mut got_any = false;
        let head = loop {
            if let Some(head) = wire::parse_head(&self.buf).map_err(|e| AttemptError::fatal(e.0))? {
                break head;
            }
            let n = conn
                .read(&mut chunk)
                .await
                .map_err(|e| AttemptError::maybe(got_any, format!("read: {e}")))?;
            if n == 0 {
                return Err(AttemptError::maybe(got_any, "connection closed".into()));
            }
            got_any = true;
            self.buf.extend_from_slice(&chunk[..n]);
        };
        self.buf.drain(..head.len);
        let mut body = Vec::new();
        if head.chunked {
            let mut d = Dechunker::default();
            loop {
                let used = d
                    .decode(&self.buf, &mut body)
                    .map_err(|e| AttemptError::fatal(e.0))?;
                self.buf.drain(..used);
                if d.is_done() {
                    break;
                }
                read_body(conn, &mut self.buf, &mut chunk).await?;
            }
        } else {
            let len = head.content_length.unwrap_or(0);
            while self.buf.len() < len {
                read_body(conn, &mut self.buf, &mut chunk).await?;
            }
            body.extend(self.buf.drain(..len));
        }
        Ok(Reply {
            status: head.status,
            body,
        })
    }
}

/// Reads more of a body into `buf`. The server closing mid-body fails the
/// request for good: it was read, so it may have been acted on.
async fn read_body(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
) -> Result<(), AttemptError> {
    let n = conn
        .read(chunk)
        .await
        .map_err(|e| AttemptError::fatal(e.to_string()))?;
    if n == 0 {
        return Err(AttemptError::fatal("connection closed in body".into()));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Why one attempt failed, and whether a fresh connection may try again
/// (nothing of the answer arrived: the server closed an idle keep-alive).
struct AttemptError {
    msg: String,
    retryable: bool,
}

impl AttemptError {
    fn fatal(msg: String) -> AttemptError {
        AttemptError {
            msg,
            retryable: false,
        }
    }
    fn retryable(msg: String) -> AttemptError {
        AttemptError {
            msg,
            retryable: true,
        }
    }
    fn maybe(got_any: bool, msg: String) -> AttemptError {
        AttemptError {
            msg,
            retryable: !got_any,
        }
    }
}

/// A TCP connection to `server`, from `source` when given, without Nagle.
pub async fn connect(server: SocketAddr, source: Option<Ipv4Addr>) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind(SocketAddr::V4(SocketAddrV4::new(ip, 0)))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
