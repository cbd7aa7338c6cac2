//! The span every request is logged in, whichever path serves it: the
//! router's `TraceLayer` makes it with this, and so does the direct stream
//! path (`sse/direct`), so both read the same in the logs.

use std::{net::SocketAddr, time::Duration};

use axum::extract::ConnectInfo;
use http::{Method, Request, Uri, Version};
use tracing::Span;

/// tower-http's default fields (`method`, `uri`, `version`) plus the client;
/// the URI with its secrets masked ([`LoggedUri`]).
pub fn request_span(
    method: &Method,
    uri: &Uri,
    version: Version,
    client: Option<SocketAddr>,
) -> Span {
    match client {
        Some(client) => tracing::debug_span!(
            "request",
            method = %method,
            uri = %LoggedUri(uri),
            version = ?version,
            client = %client,
        ),
        None => tracing::debug_span!(
            "request",
            method = %method,
            uri = %LoggedUri(uri),
            version = ?version,
        ),
    }
}

/// Query parameters whose values are secrets: a stream ticket, and the
/// tokens other SSE servers take in the URL (never valid here, but a
/// client that sends one has leaked enough already).
const SECRET_PARAMS: [&str; 3] = ["ticket", "token", "access_token"];

/// A URI as the logs show it: the value of every [`SECRET_PARAMS`]
/// parameter replaced by `…`, however it is spelled or repeated.
pub struct LoggedUri<'a>(pub &'a Uri);

impl std::fmt::Display for LoggedUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = self.0;
        let Some(query) = uri.query() else {
            return write!(f, "{uri}");
        };
        if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
            write!(f, "{scheme}://{authority}")?;
        }
        write!(f, "{}?", uri.path())?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret(name) => write!(f, "{name}=…")?,
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

/// By its decoded name, so `%74icket` is masked as well as `ticket`
/// (decoded once, as the query extractor decodes it).
fn is_secret(name: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    SECRET_PARAMS
        .iter()
        .any(|secret| decoded.eq_ignore_ascii_case(secret))
}

/// For `TraceLayer::make_span_with`.
pub fn for_router<B>(request: &Request<B>) -> Span {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    request_span(request.method(), request.uri(), request.version(), client)
}

/// `latency` as tower-http's `DefaultOnResponse` writes it.
pub fn millis(elapsed: Duration) -> String {
    format!("{} ms", elapsed.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(uri: &str) -> String {
        LoggedUri(&uri.parse().unwrap()).to_string()
    }

    #[test]
    fn secrets_in_the_query_are_masked_and_the_rest_kept() {
        assert_eq!(logged("/sse/stream"), "/sse/stream");
        assert_eq!(
            logged("/sse/stream?ticket=htk_abc&last_event_id=7"),
            "/sse/stream?ticket=…&last_event_id=7"
        );
        assert_eq!(
            logged("/sse/stream?last_event_id=7&%74icket=x&ticket=y&TOKEN=z&access_token"),
            "/sse/stream?last_event_id=7&%74icket=…&ticket=…&TOKEN=…&access_token"
        );
        assert_eq!(
            logged("/api/notifications?limit=5"),
            "/api/notifications?limit=5"
        );
        assert!(!logged("http://h:1/sse/stream?ticket=secret").contains("secret"));
    }
}
