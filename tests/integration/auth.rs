//! Signing in and out over the JSON API.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{TestServer, PASSWORD};

#[tokio::test]
async fn login_returns_a_token_a_user_and_a_safe_cookie() {
    let server = TestServer::start().await;
    let res = server.login_response("alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["role"], "user");
    assert!(body["user"].get("password_hash").is_none());
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    assert!(
        !body.to_string().contains("argon2"),
        "no hash in the answer"
    );

    // The cookie alone is a session.
    let me = server
        .http
        .get(server.url("/api/me"))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "alice");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let server = TestServer::start().await;
    let wrong = server.login_response("alice", "nope").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let wrong: Value = wrong.json().await.unwrap();

    let unknown = server.login_response("mallory", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown: Value = unknown.json().await.unwrap();

    assert_eq!(wrong, unknown);
    assert_eq!(wrong["success"], false);
    assert!(wrong["error"]
        .as_str()
        .unwrap()
        .contains("wrong username or password"));
}

#[tokio::test]
async fn bad_login_bodies_are_400_naming_the_problem() {
    let server = TestServer::start().await;
    let res = server
        .http
        .post(server.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["success"], false);

    let res = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&serde_json::json!({ "username": "alice" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("password"),
        "{body}"
    );
}

#[tokio::test]
async fn me_needs_a_valid_session() {
    let server = TestServer::start().await;
    let none = server.http.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let junk = server.get("/api/me", "not.a.jwt").await;
    assert_eq!(junk.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(junk.json::<Value>().await.unwrap()["success"], false);
}

#[tokio::test]
async fn logout_revokes_the_token_and_clears_the_cookie() {
    let server = TestServer::start().await;
    let token = server.token("bob").await;
    let res = server.logout(&token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let me = server.get("/api/me", &token).await;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "a revoked token is dead"
    );
}
