//! Cross-site request refusal (CSRF, login CSRF included): every request that
//! could change state and rides on the session cookie must come from one of
//! Herald's own pages. In front of every route — JSON API, server functions,
//! pages — so no door can forget it.
//!
//! The rule is the one of Go's `http.CrossOriginProtection` and OWASP's
//! "verifying origin with standard headers":
//! - GET, HEAD and OPTIONS pass: they change nothing here.
//! - `Authorization: Bearer` passes: such a request is authenticated by its
//!   token alone, the cookie is never read, and a cross-site page cannot set
//!   that header without a CORS preflight Herald never grants.
//! - `Sec-Fetch-Site`, when present, decides: `same-origin` and `none` (the
//!   user's own navigation) pass; `cross-site` *and* `same-site` are refused.
//!   Herald serves its pages and its API from one origin, and a sibling host
//!   of the same site (another app, user content on a subdomain) is another
//!   trust domain whose requests still carry `SameSite=Lax` cookies.
//! - Otherwise `Origin`, when present, decides: its host and port must be the
//!   request's `Host`. `Origin: null` (sandboxed frames, some redirects) is
//!   never the request's own origin.
//! - Neither header: not a browser of the last years (curl, scripts, very old
//!   clients); it passes, as in Go and OWASP, since every browser that sends
//!   cookies on a cross-site POST also sends one of the two.
//!
//! The scheme is not compared: behind a TLS-terminating proxy Herald sees
//! plain HTTP while the browser's origin says `https`. A proxy must pass the
//! browser's `Host` unchanged (nginx: `proxy_set_header Host $http_host;` — `$host` drops the port), or
//! browsers that send only `Origin` are refused.

use axum::{
    extract::Request,
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{model::AppError, server::auth::carries_bearer};

pub async fn refuse_cross_site(req: Request, next: Next) -> Response {
    match verdict(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(
                method = %req.method(),
                path = %req.uri().path(),
                why,
                "cross-site request refused"
            );
            AppError::Refused(format!("cross-site request refused: {why}")).into_response()
        }
    }
}

/// `Err` names why the request looks cross-site.
fn verdict(method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || carries_bearer(headers) {
        return Ok(());
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => Ok(()),
            _ => Err("Sec-Fetch-Site is not same-origin"),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok().and_then(origin_authority), host) {
        (Some(origin), Some(host)) if same_authority(&origin, host) => Ok(()),
        _ => Err("Origin is not this server"),
    }
}

/// `scheme://host[:port]` → (host[:port] without the scheme's default port).
/// `None` for `null` or anything that is not a serialized origin.
fn origin_authority(origin: &str) -> Option<String> {
    let (scheme, authority) = origin.split_once("://")?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    Some(without_default_port(scheme, authority).to_ascii_lowercase())
}

fn same_authority(origin: &str, host: &str) -> bool {
    // The Host header carries no scheme; an explicit default port in it
    // (`example.com:443`) names the same server as the origin without one.
    let host = host.to_ascii_lowercase();
    origin == host
        || ["http", "https"]
            .iter()
            .any(|scheme| origin == without_default_port(scheme, &host))
}

fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return authority,
    };
    authority.strip_suffix(default).unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    fn post(pairs: &[(&'static str, &'static str)]) -> Result<(), &'static str> {
        verdict(&Method::POST, &headers(pairs))
    }

    #[test]
    fn safe_methods_and_bearer_requests_pass() {
        let cross = headers(&[("sec-fetch-site", "cross-site"), ("origin", "https://evil")]);
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(verdict(&m, &cross).is_ok(), "{m}");
        }
        assert!(post(&[
            ("authorization", "Bearer t"),
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil"),
        ])
        .is_ok());
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        assert!(post(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(post(&[("sec-fetch-site", "none")]).is_ok());
        assert!(post(&[("sec-fetch-site", "same-site")]).is_err());
        assert!(post(&[("sec-fetch-site", "cross-site")]).is_err());
        assert!(post(&[("sec-fetch-site", "garbage")]).is_err());
    }

    /// A POST with these `Origin` and `Host` headers only.
    fn from(origin: &'static str, host: &'static str) -> Result<(), &'static str> {
        post(&[("origin", origin), ("host", host)])
    }

    #[test]
    fn origin_must_be_the_host() {
        let ok = [
            ("http://h.example", "h.example"),
            ("https://h.example", "h.example"),
            ("http://127.0.0.1:3000", "127.0.0.1:3000"),
            ("https://H.Example", "h.example:443"),
            ("http://h.example", "h.example:80"),
        ];
        for (origin, host) in ok {
            assert!(from(origin, host).is_ok(), "{origin} {host}");
        }
        let bad = [
            ("null", "h.example"),
            ("https://evil.example", "h.example"),
            ("http://h.example:3001", "h.example:3000"),
            ("http://h.example.evil", "h.example"),
            ("http://h.example@evil", "h.example"),
            ("http://h.example:443", "h.example"),
            ("h.example", "h.example"),
        ];
        for (origin, host) in bad {
            assert!(from(origin, host).is_err(), "{origin} {host}");
        }
        assert!(post(&[("origin", "http://h.example")]).is_err(), "no Host");
    }

    #[test]
    fn requests_without_either_header_pass() {
        assert!(post(&[]).is_ok());
        assert!(post(&[("cookie", "herald_session=x")]).is_ok());
    }
}
