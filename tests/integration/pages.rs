//! Page gates, checked on the server.

use reqwest::StatusCode;

use crate::harness::TestServer;

#[tokio::test]
async fn signed_out_visitors_are_sent_to_login() {
    let server = TestServer::start().await;
    for path in ["/", "/admin"] {
        let res = server.http.get(server.url(path)).send().await.unwrap();
        assert!(res.status().is_redirection(), "{path}: {}", res.status());
        assert_eq!(res.headers()["location"], "/login", "{path}");
    }
}

#[tokio::test]
async fn users_get_a_403_page_at_admin() {
    let server = TestServer::start().await;
    let cookie = server.cookie("alice").await;
    let res = server
        .http
        .get(server.url("/admin"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("admins only"));
}

#[tokio::test]
async fn signed_in_visitors_skip_the_login_page() {
    let server = TestServer::start().await;
    let cookie = server.cookie("alice").await;
    let res = server
        .http
        .get(server.url("/login"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test]
async fn healthz_answers() {
    let server = TestServer::start().await;
    let res = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
