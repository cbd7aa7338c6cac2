//! The SSE stream over real HTTP.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::TestServer;

#[tokio::test]
async fn the_stream_needs_a_session() {
    let server = TestServer::start().await;
    let res = server
        .http
        .get(server.url("/sse/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(res.json::<Value>().await.unwrap()["success"], false);
}

#[tokio::test]
async fn connected_comes_first_with_retry_and_the_spec_headers() {
    let server = TestServer::start().await;
    let token = server.token("alice").await;
    let alice_id = server.user_id(&token).await;
    let (reader, connected) = server.open_stream(&token, "").await;
    let h = &reader.headers;
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache, no-store, must-revalidate");
    assert_eq!(h["connection"], "keep-alive");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(h.get("content-encoding").is_none());

    assert_eq!(
        connected.lines[0], "retry: 3000",
        "retry on the first event"
    );
    let data = connected.json();
    assert_eq!(data["user_id"], alice_id);
    assert_eq!(data["unread"], 0);
    assert!(data["client_id"].as_u64().is_some());
    assert!(data["timestamp"].as_str().is_some());
}

#[tokio::test]
async fn a_broadcast_arrives_live_as_a_notification_event() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;

    let sent = server.broadcast(&admin, "Maintenance at noon").await;
    assert_eq!(sent["success"], true);
    assert_eq!(sent["data"]["recipients"], 3, "admin, alice and bob");

    let event = stream.next_non_ping().await.expect("notification");
    assert_eq!(event.event, "notification");
    let data = event.json();
    assert_eq!(data["title"], "Maintenance at noon");
    assert_eq!(data["severity"], "info");
    assert_eq!(data["unread"], 1);
    assert_eq!(
        event.id.as_deref(),
        Some(data["seq"].to_string().as_str()),
        "id: is the seq"
    );
}

#[tokio::test]
async fn cookie_sessions_open_streams_too_and_every_tab_gets_the_event() {
    let server = TestServer::start().await;
    let login = server.login_response("bob", crate::harness::PASSWORD).await;
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let admin = server.token("admin").await;

    let mut tabs = Vec::new();
    for _ in 0..3 {
        let res = server
            .http
            .get(server.url("/sse/stream"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut reader = crate::harness::SseReader::new(res);
        assert_eq!(reader.next_event().await.unwrap().event, "connected");
        tabs.push(reader);
    }
    server.broadcast(&admin, "to every tab").await;
    for tab in &mut tabs {
        assert_eq!(
            tab.next_non_ping().await.unwrap().json()["title"],
            "to every tab"
        );
    }
}

#[tokio::test]
async fn a_targeted_event_reaches_only_its_user() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let admin = server.token("admin").await;
    let bob_id = server.user_id(&bob).await;
    let (mut alice_stream, _) = server.open_stream(&alice, "").await;
    let (mut bob_stream, _) = server.open_stream(&bob, "").await;

    let res = server
        .post_json(
            "/api/sse/send-to-user",
            &admin,
            &json!({ "user_id": bob_id, "event": "notification", "data": { "title": "just bob" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A broadcast after it: alice's next event must be this one, not bob's.
    server.broadcast(&admin, "everyone").await;

    assert_eq!(
        bob_stream.next_non_ping().await.unwrap().json()["title"],
        "just bob"
    );
    assert_eq!(
        bob_stream.next_non_ping().await.unwrap().json()["title"],
        "everyone"
    );
    assert_eq!(
        alice_stream.next_non_ping().await.unwrap().json()["title"],
        "everyone"
    );
}

#[tokio::test]
async fn newlines_in_input_cannot_forge_sse_fields() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;

    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "hi\n\nevent: admin\nid: 999", "body": "a\r\ndata: x" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let event = stream.next_non_ping().await.unwrap();
    assert_eq!(event.event, "notification");
    assert_eq!(
        event.lines.len(),
        3,
        "event, id, data — nothing injected: {:?}",
        event.lines
    );
    assert_eq!(event.json()["title"], "hi\n\nevent: admin\nid: 999");

    let bad_name = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "event": "x\nevent: evil", "data": { "title": "t" } }),
        )
        .await;
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    assert!(bad_name.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .starts_with("event:"));
}

#[tokio::test]
async fn resuming_replays_what_was_missed_once() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut first, _) = server.open_stream(&alice, "").await;
    server.broadcast(&admin, "one").await;
    let seen = first.next_non_ping().await.unwrap();
    drop(first);
    server.broadcast(&admin, "two").await;
    server.broadcast(&admin, "three").await;

    let last_id = seen.id.unwrap();
    let (mut resumed, _) = server
        .open_stream(&alice, &format!("?last_event_id={last_id}"))
        .await;
    server.broadcast(&admin, "four").await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let event = resumed.next_non_ping().await.unwrap();
        got.push(event.json()["title"].as_str().unwrap().to_string());
    }
    assert_eq!(got, ["two", "three", "four"]);
}

#[tokio::test]
async fn logout_closes_that_sessions_streams() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let res = server.logout(&alice).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    stream.expect_end().await;
}

#[tokio::test]
async fn pings_keep_the_stream_alive() {
    let server = TestServer::start_with(&[("HERALD_PING_SECS", "1")]).await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let ping = stream.next_event().await.unwrap();
    assert_eq!(ping.event, "ping");
    assert!(ping.json()["timestamp"].as_str().is_some());
}
