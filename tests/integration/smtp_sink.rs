//! A small real SMTP server for the tests: a tokio listener on
//! 127.0.0.1:0 that speaks enough SMTP for a real client (EHLO/HELO, MAIL
//! FROM, RCPT TO, DATA, RSET, NOOP, QUIT) and records every message it
//! accepts. It can be "down": it then answers each new connection with
//! `421` and hangs up, as a mail server that is restarting does.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-stuffing undone and
    /// quoted-printable soft line breaks joined.
    pub data: String,
}

impl Mail {
    pub fn subject(&self) -> Option<&str> {
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix("Subject: "))
    }

    pub fn headers(&self) -> &str {
        self.data.split("\r\n\r\n").next().unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    up: Arc<AtomicBool>,
    /// Connections refused while down.
    refused: Arc<Mutex<usize>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sink = SmtpSink {
            addr: listener.local_addr().unwrap(),
            mails: Arc::default(),
            arrived: Arc::default(),
            up: Arc::new(AtomicBool::new(true)),
            refused: Arc::default(),
        };
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = serving.clone();
                tokio::spawn(async move {
                    let _ = sink.session(socket).await;
                });
            }
        });
        sink
    }

    /// `HERALD_SMTP_URL` for this sink (plain SMTP on loopback).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    pub fn refused(&self) -> usize {
        *self.refused.lock().unwrap()
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// The messages sent to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Waits until the messages received satisfy `done`, up to `deadline`
    /// (woken by each arrival, not by a timer).
    pub async fn wait_until(
        &self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&[Mail]) -> bool,
    ) -> Vec<Mail> {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let mails = self.mails();
            if done(&mails) {
                return mails;
            }
            if tokio::time::timeout_at(end, arrived).await.is_err() {
                panic!(
                    "timed out waiting for {what}; received: {:#?}",
                    self.mails()
                        .iter()
                        .map(|m| (&m.to, m.subject()))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    async fn session(&self, socket: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        if !self.up.load(Ordering::SeqCst) {
            *self.refused.lock().unwrap() += 1;
            write
                .write_all(b"421 sink.test Service not available, try later\r\n")
                .await?;
            return write.shutdown().await;
        }
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
            } else if upper.starts_with("HELO") {
                b"250 sink.test\r\n"
            } else if let Some(rest) = upper.strip_prefix("MAIL FROM:") {
                from = address(&command[command.len() - rest.len()..]);
                to.clear();
                b"250 OK\r\n"
            } else if let Some(rest) = upper.strip_prefix("RCPT TO:") {
                to.push(address(&command[command.len() - rest.len()..]));
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let mail = Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data: data.replace("=\r\n", ""),
                };
                self.mails.lock().unwrap().push(mail);
                self.arrived.notify_waiters();
                b"250 OK queued\r\n"
            } else if upper == "RSET" {
                to.clear();
                b"250 OK\r\n"
            } else if upper == "NOOP" {
                b"250 OK\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else {
                b"502 Command not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// `<a@b> SIZE=…` → `a@b`.
fn address(rest: &str) -> String {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map_or(rest, |(a, _)| a);
    inner.to_string()
}
