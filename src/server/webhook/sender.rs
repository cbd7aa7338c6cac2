//! Sends one signed message to one endpoint and says what came of it. It
//! never retries (the delivery task decides when to try again) and never
//! follows a redirect. Without `HERALD_WEBHOOK_ALLOW_PRIVATE`, every name
//! is resolved through [`PublicOnly`], so the address connected to is the
//! address checked (no second lookup an attacker's DNS could answer
//! differently).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use super::{address, sign};

/// Connecting to an endpoint: a dead one costs no more than this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole request, answer head included: a slow one costs no more.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

/// One message as it goes out.
pub struct Message<'a> {
    pub url: &'a str,
    /// `whsec_…`: never logged, never in an error.
    pub secret: &'a str,
    /// `webhook-id`: the same on every retry.
    pub id: &'a str,
    pub body: &'a str,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The endpoint's status, when it answered.
    pub status: Option<u16>,
    /// Why it did not answer (or was not called).
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Outcome {
    /// Delivered: a 2xx answer.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The HTTP client for calls to other parties' URLs (webhook endpoints,
/// push services): no redirects, bounded connect and request times, and,
/// unless `allow_private`, names resolved through [`PublicOnly`].
pub(crate) fn outbound_client(
    user_agent: &'static str,
    send_timeout: Duration,
    allow_private: bool,
) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(send_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent);
    if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(PublicOnly))
    }
}

/// A URL whose host is a literal loopback or private address, refused
/// unless `allow_private`: a literal is never resolved, so never seen by
/// [`PublicOnly`]. The address, to say why.
pub(crate) fn refused_literal(url: &reqwest::Url, allow_private: bool) -> Option<std::net::IpAddr> {
    if allow_private {
        return None;
    }
    url.host_str()
        .and_then(address::literal_ip)
        .filter(|ip| address::is_private(*ip))
}

impl Sender {
    pub fn new(allow_private: bool) -> Result<Sender, reqwest::Error> {
        let builder = outbound_client(
            concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION")),
            SEND_TIMEOUT,
            allow_private,
        )
        .pool_max_idle_per_host(1);
        Ok(Sender {
            client: builder.build()?,
            allow_private,
        })
    }

    pub async fn send(&self, message: &Message<'_>) -> Outcome {
        let started = std::time::Instant::now();
        let (status, error) = match self.try_send(message).await {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        Outcome {
            status,
            error,
            duration_ms: started.elapsed().as_millis() as i64,
        }
    }

    async fn try_send(&self, message: &Message<'_>) -> Result<u16, String> {
        let url = reqwest::Url::parse(message.url).map_err(|e| format!("bad URL: {e}"))?;
        if let Some(ip) = refused_literal(&url, self.allow_private) {
            return Err(format!("refused: {ip} is a loopback or private address"));
        }
        let key = sign::key_of(message.secret).ok_or("the endpoint's secret is not base64")?;
        let timestamp = crate::server::store::now_ms() / 1000;
        let signature = sign::signature(&key, message.id, timestamp, message.body.as_bytes());
        let response = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body.to_string())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// A failure in words, without the URL (it may carry a token of the
/// receiver's): the innermost causes say what happened.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        return "timed out".into();
    }
    let mut words = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words.chars().take(300).collect()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves a name and refuses it if any of its addresses is private.
pub(crate) struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| address::is_private(a.ip())) {
                return Err(format!(
                    "refused: {host} resolves to {}, a loopback or private address",
                    bad.ip()
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok::<_, BoxError>(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The address is checked again when sending: a literal one before the
    /// request, a name where it is resolved for the connection.
    #[tokio::test]
    async fn private_addresses_are_refused_at_send_time() {
        let sender = Sender::new(false).unwrap();
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/hook",
            "http://localhost:9/hook",
        ] {
            let outcome = sender
                .send(&Message {
                    url,
                    secret: "whsec_c2VjcmV0",
                    id: "msg_1",
                    body: "{}",
                })
                .await;
            assert_eq!(outcome.status, None, "{url}");
            let error = outcome.error.unwrap_or_default();
            assert!(error.contains("private address"), "{url}: {error}");
            assert!(!error.contains("whsec_"), "{error}");
        }
    }
}
