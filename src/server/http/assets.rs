//! The browser bundle under `/pkg` (WASM, JS, CSS), and how it and the pages
//! are cached.
//!
//! The bundle is compressed once, at build time: `scripts/precompress.mjs`
//! writes a brotli and a gzip copy beside each file, and this route sends the
//! one the request accepts (never compressing anything itself: brotli at its
//! best quality costs tens of milliseconds of CPU per megabyte, which the
//! runtime layer would spend on every visit). Its names carry a hash of their
//! content (cargo-leptos' `hash-files`), so a name never changes meaning and
//! the browser may keep it a year without asking again; the pages that name
//! it are revalidated on every visit, so a deploy is seen at once.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// For a file whose name holds its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: the browser may keep a copy but must ask before
/// using it. `private`: a page is one user's inbox, never a shared cache's.
pub const REVALIDATE: &str = "no-cache, private";

/// `GET /pkg/{*file}`: the file from the site's `pkg` directory, its `.br` or
/// `.gz` twin when the request accepts it, with the cache policy its name
/// allows and `Vary: Accept-Encoding` (one URL, several bodies).
pub async fn bundle_file(State(options): State<LeptosOptions>, req: Request) -> Response {
    let immutable = is_hashed_name(req.uri().path());
    // The full path (`/pkg/…`) resolved under the site root; ServeDir refuses
    // `..` and the like.
    let dir = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let mut res = match dir.oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    };
    let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let policy = if immutable && found {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// Whether the last segment of `path` is `name.<hash>.ext` as cargo-leptos
/// writes it: the URL-safe base64 of an MD5, 22 characters. An unhashed name
/// (a development build) may change content under the same name, so it is
/// only ever revalidated.
pub fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Pages (any HTML the router renders) are revalidated, unless the handler
/// chose a policy of its own (the 403 page: `no-store`).
pub async fn revalidate_pages(mut res: Response) -> Response {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    }
    res
}

/// With hashed names, leptos reads them on every page from a file that
/// cargo-leptos writes beside the binary (`target/release/hash.txt`), and
/// panics on the first page if it is missing: refuse to start instead.
pub fn check_hash_file(options: &LeptosOptions) -> Result<(), String> {
    if !options.hash_files {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the binary: {e}"))?;
    let path = exe
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(options.hash_file.as_ref());
    if path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing: this build names the bundle by hash, and that file \
             (written by `cargo leptos build`) must stay beside the binary",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::is_hashed_name;

    #[test]
    fn hashed_names_are_cargo_leptos_ones() {
        for path in [
            "/pkg/herald.1B2M2Y8AsgTpgAmY7PhCfg.wasm",
            "/pkg/herald.a-b_c1B2M2Y8AsgTpgAmY7.js",
            "herald.d.1B2M2Y8AsgTpgAmY7PhCfg.ts",
        ] {
            assert!(is_hashed_name(path), "{path}");
        }
        for path in [
            "/pkg/herald.wasm",
            "/pkg/herald.css",
            "/pkg/.1B2M2Y8AsgTpgAmY7PhCfg.js",
            "/pkg/herald.1B2M2Y8AsgTpgAmY7PhCf.js",
            "/pkg/herald.1B2M2Y8AsgTpgAmY7PhC=g.js",
            "/pkg/1B2M2Y8AsgTpgAmY7PhCfg.js",
            "/pkg/",
        ] {
            assert!(!is_hashed_name(path), "{path}");
        }
    }
}
