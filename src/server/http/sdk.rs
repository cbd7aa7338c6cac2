//! The JS client under `/sdk` (clients/js: `herald.js`, the headless client,
//! and `herald-inbox.js`, the web component), for host pages on other
//! origins: `<script type="module" src="https://herald…/sdk/herald-inbox.js">`.
//!
//! Embedded at build time (build.rs). Each file is served at
//! `/sdk/<version>-<hash>/<file>`, the client's package version and a hash
//! of the files' content, kept a year (`immutable`): a new build is a new
//! path, so a cached copy is never stale. `/sdk/<file>` is the stable alias a
//! page names: a redirect to the current path, revalidated every time, so a
//! deploy is picked up at once. A module script from another origin is a
//! CORS request: the files are public, so every origin may load them
//! (`Access-Control-Allow-Origin: *`, never with credentials).

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use super::assets::IMMUTABLE;

const FILES: [(&str, &[u8]); 2] = [
    (
        "herald.js",
        include_bytes!(concat!(env!("OUT_DIR"), "/herald.js")),
    ),
    (
        "herald-inbox.js",
        include_bytes!(concat!(env!("OUT_DIR"), "/herald-inbox.js")),
    ),
];

/// `<version>-<first 16 hex digits of SHA-256 over every file>`.
static RELEASE: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for (name, bytes) in FILES {
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", env!("HERALD_JS_VERSION"))
});

/// The versioned path of one file, e.g. `/sdk/0.1.0-9f2c…/herald.js`.
pub fn versioned_path(file: &str) -> String {
    format!("/sdk/{}/{file}", *RELEASE)
}

fn file(name: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

fn not_found(why: &'static str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-cache")],
        why,
    )
        .into_response()
}

/// The built file, or why there is none.
fn built(name: &str) -> Result<&'static [u8], &'static str> {
    match file(name) {
        None => Err("no such file"),
        Some([]) => {
            Err("the JS client was not built into this binary (make js-build, then build Herald)")
        }
        Some(bytes) => Ok(bytes),
    }
}

/// `GET /sdk/{file}`: a redirect to the current versioned path.
pub async fn stable(Path(name): Path<String>) -> Response {
    if let Err(why) = built(&name) {
        return not_found(why);
    }
    let mut res = StatusCode::FOUND.into_response();
    let headers = res.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&versioned_path(&name)) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// `GET /sdk/{release}/{file}`: the file, kept a year; another release's
/// path is gone (404) rather than answered with different content.
pub async fn versioned(Path((release, name)): Path<(String, String)>) -> Response {
    let bytes = match built(&name) {
        Ok(bytes) => bytes,
        Err(why) => return not_found(why),
    };
    if release != *RELEASE {
        return not_found("not this release: load /sdk/<file> for the current one");
    }
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, IMMUTABLE),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response()
}
