//! The browser bundle under /pkg: sent as compressed at build time (the
//! `.br` or `.gz` beside each file, never compressed again), kept a year
//! when its name holds its hash; pages revalidated. On a site directory of
//! the test's own, with stand-in files whose twins differ visibly.

use reqwest::{header, Response, StatusCode};

use crate::harness::TestServer;

/// A cargo-leptos content hash: 22 characters of URL-safe base64.
const HASH: &str = "AbCdEfGhIjKlMnOpQrSt-_";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Chromium's Accept-Encoding.
const CHROMIUM: &str = "gzip, deflate, br, zstd";

struct Site {
    dir: tempfile::TempDir,
    wasm: Vec<u8>,
    script: Vec<u8>,
}

/// `pkg/herald.<HASH>.wasm` with a `.br` and a `.gz` twin (not real
/// compressions: bytes that say which file was sent), a hashed script with
/// no twins, an unhashed stylesheet.
fn site() -> Site {
    let dir = tempfile::tempdir().expect("temp dir");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    // Large and repetitive enough that a runtime compressor would take it.
    let wasm = [&b"\0asm"[..], &b"raw wasm ".repeat(200)].concat();
    let script = b"export function hydrate() {}\n".repeat(50);
    std::fs::write(pkg.join(format!("herald.{HASH}.wasm")), &wasm).unwrap();
    std::fs::write(
        pkg.join(format!("herald.{HASH}.wasm.br")),
        b"the brotli twin",
    )
    .unwrap();
    std::fs::write(pkg.join(format!("herald.{HASH}.wasm.gz")), b"the gzip twin").unwrap();
    std::fs::write(pkg.join(format!("herald.{HASH}.js")), &script).unwrap();
    std::fs::write(pkg.join("herald.css"), "body { margin: 0 }\n".repeat(50)).unwrap();
    Site { dir, wasm, script }
}

async fn start(site: &Site) -> TestServer {
    let root = site.dir.path().to_str().unwrap().to_string();
    TestServer::start_with(&[("LEPTOS_SITE_ROOT", &root)]).await
}

async fn get(server: &TestServer, path: &str, accept_encoding: Option<&str>) -> Response {
    let mut req = server.http.get(server.url(path));
    if let Some(ae) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, ae);
    }
    req.send().await.unwrap()
}

fn header_of(res: &Response, name: header::HeaderName) -> Option<&str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Status, Content-Encoding, Cache-Control and Vary as the bundle must
/// answer them, and the body.
async fn assert_sent(res: Response, encoding: Option<&str>, cache: &str, body: &[u8], what: &str) {
    assert_eq!(res.status(), StatusCode::OK, "{what}");
    assert_eq!(
        header_of(&res, header::CONTENT_ENCODING),
        encoding,
        "{what}: Content-Encoding"
    );
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        Some(cache),
        "{what}: Cache-Control"
    );
    let vary = header_of(&res, header::VARY)
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(vary.contains("accept-encoding"), "{what}: Vary is {vary:?}");
    assert_eq!(&res.bytes().await.unwrap()[..], body, "{what}: body");
}

#[tokio::test]
async fn the_bundle_is_sent_as_compressed_at_build_time_and_kept_a_year() {
    let site = site();
    let server = start(&site).await;
    let wasm = format!("/pkg/herald.{HASH}.wasm");

    let res = get(&server, &wasm, Some(CHROMIUM)).await;
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        Some("application/wasm")
    );
    assert_sent(
        res,
        Some("br"),
        IMMUTABLE,
        b"the brotli twin",
        "brotli accepted",
    )
    .await;

    let res = get(&server, &wasm, Some("gzip")).await;
    assert_sent(res, Some("gzip"), IMMUTABLE, b"the gzip twin", "only gzip").await;

    let res = get(&server, &wasm, Some("br;q=0, gzip;q=0.8")).await;
    assert_sent(
        res,
        Some("gzip"),
        IMMUTABLE,
        b"the gzip twin",
        "brotli refused",
    )
    .await;

    for ae in [None, Some("identity")] {
        let res = get(&server, &wasm, ae).await;
        assert_sent(res, None, IMMUTABLE, &site.wasm, &format!("{ae:?}")).await;
    }
}

#[tokio::test]
async fn the_bundle_is_never_compressed_at_run_time() {
    let site = site();
    let server = start(&site).await;
    // No twin: the file as it is, though the request accepts both and the
    // runtime compression layer would have taken a script of this size.
    let res = get(&server, &format!("/pkg/herald.{HASH}.js"), Some(CHROMIUM)).await;
    assert_sent(
        res,
        None,
        IMMUTABLE,
        &site.script,
        "hashed script, no twins",
    )
    .await;
}

#[tokio::test]
async fn only_hashed_names_are_kept() {
    let site = site();
    let server = start(&site).await;
    // A development build's name may change content: revalidated.
    let res = get(&server, "/pkg/herald.css", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        Some("no-cache, private")
    );
    // A hashed name that is not there must not be remembered as missing.
    let res = get(
        &server,
        "/pkg/herald.BbCdEfGhIjKlMnOpQrSt-_.wasm",
        Some(CHROMIUM),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        Some("no-cache, private")
    );
}

#[tokio::test]
async fn pages_are_revalidated_and_still_compressed() {
    let site = site();
    let server = start(&site).await;
    let cookie = server.cookie("alice").await;
    for (path, cookie) in [("/login", None), ("/", Some(&cookie))] {
        let mut req = server.http.get(server.url(path));
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        let res = req
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let cache = header_of(&res, header::CACHE_CONTROL).unwrap_or_default();
        let directives: Vec<&str> = cache.split(',').map(str::trim).collect();
        assert!(
            directives.contains(&"no-cache") && directives.contains(&"private"),
            "{path}: Cache-Control is {cache:?}"
        );
        // Dynamic responses keep the runtime compression.
        assert_eq!(
            header_of(&res, header::CONTENT_ENCODING),
            Some("gzip"),
            "{path}"
        );
    }
    // The shell links the stylesheet by the name the build gave it (no
    // hash file in tests: the plain name).
    let html = get(&server, "/login", None).await.text().await.unwrap();
    assert!(html.contains(r#"href="/pkg/herald.css""#), "{html}");
    // So does the 403 page, which is not the shell (and is not stored at all).
    let res = server
        .http
        .get(server.url("/admin"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(header_of(&res, header::CACHE_CONTROL), Some("no-store"));
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"href="/pkg/herald.css""#), "{html}");
}
