//! Admin doors of the JSON API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::TestServer;

#[tokio::test]
async fn users_are_403_at_admin_doors() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &alice,
            &json!({ "event": "notification", "data": { "title": "x" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["success"], false);

    let stats = server.get("/api/sse/stats", &alice).await;
    assert_eq!(stats.status(), StatusCode::FORBIDDEN);

    // Nothing was stored by the refused broadcast.
    let inbox: Value = server
        .get("/api/notifications", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["unread"], 0);
}

#[tokio::test]
async fn signed_out_callers_are_401_at_admin_doors() {
    let server = TestServer::start().await;
    let res = server
        .http
        .post(server.url("/api/sse/broadcast"))
        .json(&json!({ "data": { "title": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn stats_count_streams_per_user() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let (_s1, _) = server.open_stream(&alice, "").await;
    let (_s2, _) = server.open_stream(&alice, "").await;
    let stats: Value = server
        .get("/api/sse/stats", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["success"], true);
    assert_eq!(stats["data"]["total_clients"], 2);
    assert_eq!(stats["data"]["user_clients"][alice_id.to_string()], 2);
}

#[tokio::test]
async fn bad_announcements_are_rejected_and_store_nothing() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let cases = [
        (
            json!({ "data": { "title": "" } }),
            StatusCode::BAD_REQUEST,
            "title",
        ),
        (json!({ "data": {} }), StatusCode::BAD_REQUEST, "title"),
        (
            json!({ "event": "notification" }),
            StatusCode::BAD_REQUEST,
            "data",
        ),
        (
            json!({ "data": { "title": "t", "severity": "loud" } }),
            StatusCode::BAD_REQUEST,
            "severity",
        ),
        (
            json!({ "data": { "title": "t", "link": "javascript:alert(1)" } }),
            StatusCode::BAD_REQUEST,
            "link",
        ),
    ];
    for (body, status, field) in cases {
        let res = server.post_json("/api/sse/broadcast", &admin, &body).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().contains(field),
            "{body} -> {err}"
        );
    }
    let malformed = server
        .http
        .post(server.url("/api/sse/broadcast"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"data\": {\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json::<Value>().await.unwrap()["success"], false);
    let res = server
        .post_json(
            "/api/sse/send-to-user",
            &admin,
            &json!({ "user_id": 9999, "data": { "title": "t" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let oversize = "x".repeat(100 * 1024);
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "t", "body": oversize } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json::<Value>().await.unwrap()["success"], false);

    let inbox: Value = server
        .get("/api/notifications", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"].as_array().unwrap().len(), 0);
}
