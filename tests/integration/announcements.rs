//! Announcements over time: scheduling (across a restart), expiry,
//! retraction, the funnel, the audit log, and the publishers' rate limit.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{eventually, TestServer};

/// RFC 3339 for `ms` from now (also used by `hostile_publish`).
pub(crate) fn in_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(ms);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn a_scheduled_announcement_is_sent_on_time_even_after_a_restart() {
    // The first server never runs its scheduler again after starting...
    let first = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "3600000")]).await;
    let admin = first.token("admin").await;
    let res = first
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "later" }, "send_at": in_ms(1500) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["data"]["scheduled"], true);
    assert_eq!(sent["data"]["recipients"], 0);

    // ...so the one "after the restart" on the same database sends it.
    let second = first
        .start_sharing_db(&[("HERALD_SCHEDULER_MS", "100")])
        .await;
    let alice = second.token("alice").await;
    let (mut stream, _) = second.open_stream(&alice, "").await;
    let event = stream.next_non_ping().await.unwrap();
    assert_eq!(event.json()["title"], "later");

    let history = second.get_json("/api/announcements", &admin).await;
    assert_eq!(history["data"][0]["status"], "sent");
    assert_eq!(history["data"][0]["recipients"], 3);
}

#[tokio::test]
async fn expired_and_retracted_announcements_leave_inboxes_live() {
    let server = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "100")]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;

    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "short-lived" }, "expires_at": in_ms(1500) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let created = stream.next_non_ping().await.unwrap().json();
    let removed = stream.next_non_ping().await.unwrap();
    assert_eq!(removed.event, "notification.removed");
    // A removal is an entry of its own: the next offset in the channel.
    let removal_id: i64 = removed.id.as_deref().unwrap().parse().unwrap();
    assert_eq!(
        removed.json(),
        json!({ "ids": [created["id"]], "seq": removal_id, "ch": "all",
                "off": created["off"].as_i64().unwrap() + 1, "unread": 0 })
    );

    let sent = server.broadcast(&admin, "oops").await;
    let oops = stream.next_non_ping().await.unwrap().json();
    assert_eq!(oops["unread"], 1);
    let id = sent["data"]["id"].as_i64().unwrap();
    let res = server
        .delete(&format!("/api/announcements/{id}"), &admin)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let removed = stream.next_non_ping().await.unwrap();
    assert_eq!(removed.event, "notification.removed");
    assert_eq!(removed.json()["ids"], json!([oops["id"]]));
    assert_eq!(removed.json()["unread"], 0);
    assert_eq!(removed.json()["off"], oops["off"].as_i64().unwrap() + 1);
    let inbox = server.get_json("/api/notifications", &alice).await;
    assert_eq!(inbox["items"], json!([]));

    let again = server
        .delete(&format!("/api/announcements/{id}"), &admin)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let as_user = server
        .delete(&format!("/api/announcements/{id}"), &alice)
        .await;
    assert_eq!(as_user.status(), StatusCode::FORBIDDEN);

    let audit = server.get_json("/api/audit", &admin).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "announcement.retracted",
            "announcement.sent",
            "announcement.expired",
            "announcement.sent"
        ]
    );
    assert_eq!(audit["data"][0]["actor"], "admin");
    assert_eq!(audit["data"][2]["actor"], "herald");
}

#[tokio::test]
async fn the_funnel_counts_delivered_and_read() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    server.broadcast(&admin, "funnel").await;
    let n = stream.next_non_ping().await.unwrap().json();
    // Live deliveries reach the funnel in the next batch (about a second).
    let funnel = || async {
        let history = server.get_json("/api/announcements", &admin).await;
        let row = &history["data"][0];
        (
            row["recipients"].as_i64(),
            row["delivered"].as_i64(),
            row["read"].as_i64(),
        )
    };
    eventually("alice's live delivery counted", async || {
        funnel().await == (Some(3), Some(1), Some(0))
    })
    .await;

    let res = server
        .post_json(
            &format!("/api/notifications/{}/read", n["id"]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let history = server.get_json("/api/announcements", &admin).await;
    assert_eq!(history["data"][0]["read"], 1);

    // Bob was offline; opening his inbox delivers it to him.
    let bob = server.token("bob").await;
    server.get_json("/api/notifications", &bob).await;
    let history = server.get_json("/api/announcements", &admin).await;
    assert_eq!(history["data"][0]["delivered"], 2);
}

#[tokio::test]
async fn bad_times_are_400_naming_the_field() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    for (body, field) in [
        (
            json!({ "data": { "title": "t" }, "send_at": "tomorrow" }),
            "send_at",
        ),
        (
            json!({ "data": { "title": "t" }, "send_at": in_ms(-3_600_000) }),
            "send_at",
        ),
        (
            json!({ "data": { "title": "t" }, "send_at": in_ms(60_000), "expires_at": in_ms(30_000) }),
            "expires_at",
        ),
    ] {
        let res = server.post_json("/api/sse/broadcast", &admin, &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().starts_with(field), "{err}");
    }
}

#[tokio::test]
async fn publishers_and_password_guessers_get_429() {
    let server = TestServer::start_with(&[
        ("HERALD_PUBLISH_PER_MINUTE", "2"),
        ("HERALD_LOGIN_FAILURES_PER_MINUTE", "3"),
    ])
    .await;
    let admin = server.token("admin").await;
    server.broadcast(&admin, "one").await;
    server.broadcast(&admin, "two").await;
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "three" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.json::<Value>().await.unwrap()["success"], false);

    for _ in 0..3 {
        let res = server.login_response("bob", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = server.login_response("bob", crate::harness::PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password, for now"
    );
}
