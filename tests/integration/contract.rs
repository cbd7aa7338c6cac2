//! The rest of the stream contract: read receipts across tabs, progress,
//! role targets, pagination, metrics, compression and token checks.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::TestServer;

#[tokio::test]
async fn marking_read_in_one_tab_updates_every_tab() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut tab_a, _) = server.open_stream(&alice, "").await;
    let (mut tab_b, _) = server.open_stream(&alice, "").await;
    server.broadcast(&admin, "first").await;
    server.broadcast(&admin, "second").await;
    let first = tab_a.next_non_ping().await.unwrap().json();
    tab_a.next_non_ping().await.unwrap();
    tab_b.next_non_ping().await.unwrap();
    tab_b.next_non_ping().await.unwrap();

    let id = first["id"].as_i64().unwrap();
    let res = server
        .post_json(&format!("/api/notifications/{id}/read"), &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for tab in [&mut tab_a, &mut tab_b] {
        let read = tab.next_non_ping().await.unwrap();
        assert_eq!(read.event, "notification.read");
        assert_eq!(read.json(), json!({ "ids": [id], "unread": 1 }));
    }

    let res = server
        .post_json("/api/notifications/read-all", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["unread"], 0);
    let read = tab_b.next_non_ping().await.unwrap();
    assert_eq!(read.event, "notification.read");
    assert_eq!(read.json()["unread"], 0);
    assert_eq!(read.json()["up_to_seq"], 2);
}

#[tokio::test]
async fn nobody_can_read_or_mark_another_users_notification() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let admin = server.token("admin").await;
    // A broadcast is one entry everyone may mark; a personal one is alice's alone.
    server.broadcast(&admin, "for all").await;
    let alice_id = server.user_id(&alice).await;
    let res = server
        .post_json(
            "/api/sse/send-to-user",
            &admin,
            &json!({ "user_id": alice_id, "data": { "title": "for alice" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let alices = server.get_json("/api/notifications", &alice).await;
    assert_eq!(alices["items"][0]["title"], "for alice");
    let alice_item = alices["items"][0]["id"].as_i64().unwrap();

    let res = server
        .post_json(
            &format!("/api/notifications/{alice_item}/read"),
            &bob,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        server.get_json("/api/notifications", &alice).await["unread"],
        2
    );
    let bobs = server.get_json("/api/notifications", &bob).await;
    let bob_ids: Vec<i64> = bobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert!(!bob_ids.contains(&alice_item), "{bobs}");
    assert_eq!(bobs["unread"], 1);

    let res = server
        .post_json("/api/notifications/abc/read", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_inbox_pages_newest_first_with_a_cursor() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    for n in 1..=5 {
        server.broadcast(&admin, &format!("n{n}")).await;
    }
    let mut titles = Vec::new();
    let mut path = "/api/notifications?limit=2".to_string();
    loop {
        let page = server.get_json(&path, &alice).await;
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        titles.extend(
            items
                .iter()
                .map(|i| i["title"].as_str().unwrap().to_string()),
        );
        path = format!("/api/notifications?limit=2&before={}", page["next_before"]);
    }
    assert_eq!(titles, ["n5", "n4", "n3", "n2", "n1"]);

    let res = server.get("/api/notifications?limit=1000", &alice).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_export_streams_progress_to_its_owner_and_ends_with_a_link() {
    let server = TestServer::start_with(&[("HERALD_EXPORT_STEP_MS", "10")]).await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let admin = server.token("admin").await;
    server.broadcast(&admin, "=SUM(A1) \"quoted\"").await;
    let (mut alice_stream, _) = server.open_stream(&alice, "").await;
    let (mut bob_stream, _) = server.open_stream(&bob, "").await;

    let res = server.post_json("/api/exports", &alice, &json!({})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let task_id = res.json::<Value>().await.unwrap()["data"]["task_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Progress climbs to 100 ("done"); the notification with the link
    // ends the task. On PostgreSQL progress travels apart from the log
    // (pg_notify, unordered by design), so the last update and the
    // notification may arrive in either order.
    let mut last = -1;
    let mut done = None;
    while last < 100 || done.is_none() {
        let event = alice_stream.next_non_ping().await.unwrap();
        if event.event == "notification" {
            assert!(done.is_none(), "one notification");
            done = Some(event);
            continue;
        }
        assert_eq!(event.event, "progress");
        let data = event.json();
        assert_eq!(data["task_id"], task_id);
        let progress = data["progress"].as_i64().unwrap();
        assert!(progress > last && progress <= 100, "{data}");
        last = progress;
        if progress == 100 {
            assert_eq!(data["status"], "done");
        }
    }
    let done = done.unwrap();
    let link = done.json()["link"].as_str().unwrap().to_string();
    assert_eq!(link, format!("/api/exports/{task_id}"));

    let csv = server.get(&link, &alice).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("\"'=SUM(A1) \"\"quoted\"\"\""), "{csv}");

    let theirs = server.get(&link, &bob).await;
    assert_eq!(
        theirs.status(),
        StatusCode::NOT_FOUND,
        "bob cannot fetch alice's export"
    );

    // Bob saw none of it: his next event is this marker.
    server.broadcast(&admin, "marker").await;
    assert_eq!(
        bob_stream.next_non_ping().await.unwrap().json()["title"],
        "marker"
    );
}

#[tokio::test]
async fn role_targets_and_custom_event_names() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut alice_stream, _) = server.open_stream(&alice, "").await;
    let (mut admin_stream, _) = server.open_stream(&admin, "").await;

    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "role": "admin", "event": "deploy.done", "data": { "title": "admins only" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["data"]["recipients"], 1);
    let event = admin_stream.next_non_ping().await.unwrap();
    assert_eq!(event.event, "deploy.done");
    assert_eq!(event.id.as_deref(), Some("1"));

    server.broadcast(&admin, "everyone").await;
    assert_eq!(
        alice_stream.next_non_ping().await.unwrap().json()["title"],
        "everyone"
    );

    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "role": "root", "data": { "title": "x" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "event": "resync", "data": { "title": "x" } }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "server event names are reserved"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text_for_loopback_or_the_token() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let admin = server.token("admin").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    server.broadcast(&admin, "counted").await;
    stream.next_non_ping().await.unwrap();

    let text = server.metrics().await;
    assert!(text.contains("\nsse_active_connections 1\n"), "{text}");
    assert!(text.contains("\nsse_messages_sent_total 1\n"), "{text}");
    assert!(
        text.contains("sse_publish_to_write_seconds_count 1\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE sse_lagged_clients_total counter"),
        "{text}"
    );

    let guarded = TestServer::start_with(&[("HERALD_METRICS_TOKEN", "scrape-me")]).await;
    let res = guarded
        .http
        .get(guarded.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = guarded
        .http
        .get(guarded.url("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_is_compressed_but_the_stream_never_is() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let json = server
        .http
        .get(server.url("/api/notifications"))
        .bearer_auth(&alice)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(json.headers()["content-encoding"], "gzip");

    let stream = server
        .http
        .get(server.url("/sse/stream"))
        .bearer_auth(&alice)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers().get("content-encoding").is_none());
    let mut reader = crate::harness::SseReader::new(stream);
    assert_eq!(reader.next_event().await.unwrap().event, "connected");
}

/// Expired, tampered and unsigned tokens get 401. The expired ones name a
/// real session: alice's own, signed with the server's secret, so that only
/// their expiry can refuse them — the same claims with a future `exp` get
/// in (checked first), a past `exp` does not, nor does a future `exp` on a
/// session whose row has expired.
#[tokio::test]
async fn expired_tampered_and_unsigned_tokens_get_401() {
    use herald::server::{
        auth::jwt::{Claims, JwtKeys},
        store::{now_ms, Pool},
    };
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let keys = JwtKeys::new(b"test-secret-test-secret-test-secret!");
    let real = keys
        .verify(&alice)
        .expect("alice's token, signed with the test secret");
    let now_secs = now_ms() / 1000;
    let signed = |sid: &str, exp: i64| {
        keys.issue(&Claims {
            sid: sid.to_string(),
            exp,
            ..real.clone()
        })
        .unwrap()
    };
    let reissued = signed(&real.sid, now_secs + 3600);
    assert_eq!(
        server.get("/api/me", &reissued).await.status(),
        StatusCode::OK,
        "alice's session, re-signed: the claims and secret are right"
    );
    let expired_token = signed(&real.sid, now_secs - 60);

    // Alice's real token with its payload swapped for an admin claim.
    let alice_id = real.sub.clone();
    let parts: Vec<&str> = alice.split('.').collect();
    let forged_payload = {
        let admin_claims =
            format!(r#"{{"sub":"{alice_id}","role":"admin","sid":"x","iat":1,"exp":4000000000}}"#);
        base64url(admin_claims.as_bytes())
    };
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    let unsigned = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );

    // A second session of alice's whose row has expired; its token has not.
    let other = server.token("alice").await;
    let second = keys.verify(&other).unwrap();
    assert_ne!(second.sid, real.sid);
    let expire = "UPDATE sessions SET expires_at = $1 WHERE id = $2";
    let past = now_ms() - 1000;
    match &server.state.pool {
        Pool::Sqlite(pool) => sqlx::query(expire)
            .bind(past)
            .bind(&second.sid)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Pool::Postgres(pool) => sqlx::query(expire)
            .bind(past)
            .bind(&second.sid)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .map(|rows| assert_eq!(rows, 1, "the session row"))
    .unwrap();
    let expired_session = signed(&second.sid, now_secs + 3600);

    for (name, token) in [
        ("expired token of a live session", expired_token),
        ("live token of an expired session", expired_session),
        ("tampered", tampered),
        ("alg none", unsigned),
    ] {
        for path in ["/sse/stream", "/api/me"] {
            let res = server.get(path, &token).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name} at {path}");
        }
        let cookie = server
            .http
            .get(server.url("/sse/stream"))
            .header("cookie", format!("herald_session={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            cookie.status(),
            StatusCode::UNAUTHORIZED,
            "{name} as a cookie"
        );
    }
    assert_eq!(
        server.get("/api/me", &reissued).await.status(),
        StatusCode::OK,
        "alice's first session is still live"
    );
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
