//! Outbound email, for escalation (docs/escalation.md): one SMTP client
//! (lettre, rustls) built once from `HERALD_SMTP_URL`, with a cap on sends
//! at once and a deadline on each, and the digest's text (`digest.rs`).
//! It never retries: the escalation task decides when to try again.

pub mod digest;

use std::{sync::Arc, time::Duration};

use lettre::{
    message::Mailbox, transport::smtp::PoolConfig, AsyncSmtpTransport, AsyncTransport,
    Tokio1Executor,
};
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use crate::server::config::SmtpConfig;

/// One SMTP exchange (connect, greeting, each command): a dead or slow
/// server costs no more than this per step.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// A whole send, queueing for a connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// Sends in flight at once, whatever the number of users due.
pub const MAX_SENDS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL cannot be used")]
    Url,
    #[error("not an address this mailer can send to")]
    Address,
    #[error("building the message: {0}")]
    Build(String),
    /// The server's or the connection's error, without the URL (it may
    /// hold a password).
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("SMTP: no answer within {0:?}")]
    Timeout(Duration),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sends: Arc<Semaphore>,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose_secret())
            .map_err(|_| MailError::Url)?
            .timeout(Some(COMMAND_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(MAX_SENDS as u32))
            .build();
        let from = config.from.parse().map_err(|_| MailError::Address)?;
        Ok(Mailer {
            transport,
            from,
            sends: Arc::new(Semaphore::new(MAX_SENDS)),
        })
    }

    /// The sender's mailbox (its domain names the messages' ids).
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message; `Ok` once the server accepted it.
    pub async fn send(&self, message: lettre::Message) -> Result<(), MailError> {
        let _slot = self
            .sends
            .acquire()
            .await
            .map_err(|_| MailError::Smtp("mailer closed".into()))?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Err(_) => Err(MailError::Timeout(SEND_TIMEOUT)),
            Ok(Err(e)) => Err(MailError::Smtp(smtp_reason(&e))),
            Ok(Ok(_)) => Ok(()),
        }
    }
}

/// What went wrong, in words that carry no credential: the server's answer
/// code and text when it gave one, else the kind of failure.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        return format!("the server answered {code}");
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_tls() {
        "TLS failed".into()
    } else if e.is_permanent() {
        "refused permanently".into()
    } else if e.is_transient() {
        "refused for now".into()
    } else {
        "connection failed".into()
    }
}
