//! The JS client under /sdk (src/server/http/sdk.rs): a stable alias that
//! redirects, uncached, to a path naming the package version and a content
//! hash, kept a year; loadable as a module script from any origin. Needs the
//! client built into the binary (`make js-build` before the build, as
//! `make test` does).

use reqwest::{header, StatusCode};

use crate::harness::TestServer;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn header_of(res: &reqwest::Response, name: header::HeaderName) -> Option<&str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_client_is_served_at_a_versioned_path_behind_a_stable_alias() {
    let server = TestServer::start().await;
    for (file, built) in [
        ("herald.js", "clients/js/dist/herald.js"),
        ("herald-inbox.js", "clients/js/dist/herald-inbox.js"),
    ] {
        let alias = server
            .http
            .get(server.url(&format!("/sdk/{file}")))
            .header(header::ORIGIN, "http://127.0.0.1:9")
            .send()
            .await
            .unwrap();
        assert_eq!(
            alias.status(),
            StatusCode::FOUND,
            "{file}: {} (was the JS client built? make js-build)",
            alias.text().await.unwrap()
        );
        assert_eq!(header_of(&alias, header::CACHE_CONTROL), Some("no-cache"));
        assert_eq!(
            header_of(&alias, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("*")
        );
        let location = header_of(&alias, header::LOCATION).unwrap().to_string();
        let package: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string("clients/js/package.json").unwrap())
                .unwrap();
        let version = package["version"].as_str().unwrap();
        let pattern = format!("/sdk/{version}-");
        assert!(
            location.starts_with(&pattern) && location.ends_with(&format!("/{file}")),
            "{location}"
        );
        let hash = &location[pattern.len()..location.len() - file.len() - 1];
        assert!(
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hash}"
        );

        let res = server.http.get(server.url(&location)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header_of(&res, header::CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(header_of(&res, header::CACHE_CONTROL), Some(IMMUTABLE));
        assert_eq!(
            header_of(&res, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("*")
        );
        let on_disk = std::fs::read(built).expect("the built client");
        assert_eq!(&res.bytes().await.unwrap()[..], &on_disk[..], "{file}");

        // Another release's path is gone, never answered with this content.
        let stale = location.replace(hash, "0000000000000000");
        let res = server.http.get(server.url(&stale)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{stale}");
    }
    let res = server
        .http
        .get(server.url("/sdk/other.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
