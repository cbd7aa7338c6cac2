//! The event log's promises (docs/event-log.md): who sees an entry is
//! decided by membership at its position; every count — live on a stream,
//! or computed from the store — stays exact through reads, archives,
//! read-all, retraction and expiry, across a lingering counter and a
//! restart; a broadcast writes nothing per user.

use herald::{
    model::Role,
    server::{auth::password::Hashers, store::Pool, usecases::accounts},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

use crate::harness::{SseReader, TestServer};

/// Each promise is checked on both backends.
#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

async fn server(on: Db) -> Option<TestServer> {
    match on {
        Db::Sqlite => Some(TestServer::start().await),
        Db::Postgres => TestServer::start_postgres(&[]).await,
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(super::Db::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    a_user_created_after_a_broadcast_does_not_receive_it,
    a_role_change_takes_effect_at_its_position,
    live_counts_match_the_store_through_reads_removals_and_restarts,
    a_broadcast_writes_no_row_per_user,
);

async fn titles(server: &TestServer, token: &str) -> Vec<String> {
    let inbox = server.get_json("/api/notifications", token).await;
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

async fn unread(server: &TestServer, token: &str) -> i64 {
    server.get_json("/api/notifications", token).await["unread"]
        .as_i64()
        .unwrap()
}

async fn add_user(server: &TestServer, name: &str, role: Role) -> String {
    let hashers = Hashers::new(1, Duration::from_secs(5)).unwrap();
    accounts::add_user(&server.state.pool, &hashers, name, "password-123", role)
        .await
        .unwrap();
    let res = server.login_response(name, "password-123").await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn send_to_role(server: &TestServer, admin: &str, role: &str, title: &str) {
    let res = server
        .post_json(
            "/api/sse/broadcast",
            admin,
            &json!({ "role": role, "data": { "title": title } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "a role announcement");
}

async fn retract(server: &TestServer, admin: &str, announcement: &Value) {
    let id = announcement["data"]["id"].as_i64().unwrap();
    let res = server
        .delete(&format!("/api/announcements/{id}"), admin)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// The next stored event on the stream, and its `unread`.
async fn next_count(stream: &mut SseReader, event: &str) -> i64 {
    let e = stream.next_non_ping().await.unwrap();
    assert_eq!(e.event, event, "{e:?}");
    e.json()["unread"].as_i64().unwrap()
}

async fn a_user_created_after_a_broadcast_does_not_receive_it(on: Db) {
    let Some(server) = server(on).await else {
        return;
    };
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    server.broadcast(&admin, "before carol").await;
    let carol = add_user(&server, "carol", Role::User).await;
    assert_eq!(titles(&server, &carol).await, Vec::<String>::new());
    assert_eq!(unread(&server, &carol).await, 0);

    server.broadcast(&admin, "after carol").await;
    assert_eq!(titles(&server, &carol).await, ["after carol"]);
    assert_eq!(unread(&server, &carol).await, 1);
    assert_eq!(
        titles(&server, &alice).await,
        ["after carol", "before carol"]
    );
    // Recipients are the channel's members at the broadcast's position.
    let history = server.get_json("/api/announcements", &admin).await;
    assert_eq!(history["data"][0]["recipients"], 4);
    assert_eq!(history["data"][1]["recipients"], 3);
}

async fn a_role_change_takes_effect_at_its_position(on: Db) {
    let Some(server) = server(on).await else {
        return;
    };
    let admin = server.token("admin").await;
    send_to_role(&server, &admin, "admin", "admins 1").await;
    accounts::set_role(
        &server.state.pool,
        Some(&server.state.hub),
        "bob",
        Role::Admin,
    )
    .await
    .unwrap();
    let bob = server.token("bob").await;
    send_to_role(&server, &admin, "admin", "admins 2").await;
    send_to_role(&server, &admin, "user", "users 1").await;
    assert_eq!(titles(&server, &bob).await, ["admins 2"]);

    accounts::set_role(
        &server.state.pool,
        Some(&server.state.hub),
        "bob",
        Role::User,
    )
    .await
    .unwrap();
    let bob = server.token("bob").await;
    send_to_role(&server, &admin, "admin", "admins 3").await;
    send_to_role(&server, &admin, "user", "users 2").await;
    // What he received as an admin stays; what admins get now does not reach him.
    assert_eq!(titles(&server, &bob).await, ["users 2", "admins 2"]);
    assert_eq!(unread(&server, &bob).await, 2);
    let alice = server.token("alice").await;
    assert_eq!(titles(&server, &alice).await, ["users 2", "users 1"]);
    // A resumed stream replays the same (per span), in order.
    let (mut stream, _) = server.open_stream(&bob, "?last_event_id=0").await;
    let replayed: Vec<String> = [
        stream.next_non_ping().await.unwrap(),
        stream.next_non_ping().await.unwrap(),
    ]
    .iter()
    .map(|e| e.json()["title"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(replayed, ["admins 2", "users 2"]);
}

/// Each step checks the live count a stream carries against the count the
/// store computes for a fresh page: the in-memory counter and the formula
/// must never drift apart.
async fn live_counts_match_the_store_through_reads_removals_and_restarts(on: Db) {
    let Some(server) = server(on).await else {
        return;
    };
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, connected) = server.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 0);

    let b1 = server.broadcast(&admin, "b1").await;
    let b2 = server.broadcast(&admin, "b2").await;
    let b3 = server.broadcast(&admin, "b3").await;
    let mut ids = Vec::new();
    for expected in 1..=3 {
        let e = stream.next_non_ping().await.unwrap();
        assert_eq!(e.json()["unread"], expected);
        ids.push(e.json()["id"].as_i64().unwrap());
    }
    let post = |path: String| {
        let server = &server;
        let alice = &alice;
        async move {
            let res = server.post_json(&path, alice, &json!({})).await;
            assert!(res.status().is_success(), "{path}: {}", res.status());
        }
    };

    post(format!("/api/notifications/{}/read", ids[0])).await;
    assert_eq!(next_count(&mut stream, "notification.read").await, 2);
    post(format!("/api/notifications/{}/archive", ids[1])).await;
    assert_eq!(next_count(&mut stream, "notification.read").await, 1);
    assert_eq!(unread(&server, &alice).await, 1);

    // b1 was read one by one: its removal leaves the count alone.
    retract(&server, &admin, &b1).await;
    assert_eq!(next_count(&mut stream, "notification.removed").await, 1);
    // b3 was unread: one less.
    retract(&server, &admin, &b3).await;
    assert_eq!(next_count(&mut stream, "notification.removed").await, 0);
    assert_eq!(unread(&server, &alice).await, 0);

    let b4 = server.broadcast(&admin, "b4").await;
    assert_eq!(next_count(&mut stream, "notification").await, 1);
    post("/api/notifications/read-all".into()).await;
    assert_eq!(next_count(&mut stream, "notification.read").await, 0);
    server.broadcast(&admin, "b5").await;
    assert_eq!(next_count(&mut stream, "notification").await, 1);
    // b4 was read by read-all (the watermark): its removal changes nothing.
    retract(&server, &admin, &b4).await;
    assert_eq!(next_count(&mut stream, "notification.removed").await, 1);
    assert_eq!(unread(&server, &alice).await, 1);
    retract(&server, &admin, &b2).await; // archived: already read
    assert_eq!(next_count(&mut stream, "notification.removed").await, 1);
    assert_eq!(titles(&server, &alice).await, ["b5"]);

    // The counter lingers after the stream closes and keeps following the log.
    drop(stream);
    server.broadcast(&admin, "b6").await;
    let (stream, connected) = server.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 2);
    assert_eq!(unread(&server, &alice).await, 2);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("herald_counters_seeded_total 1\n")
            && metrics.contains("herald_counters_reused_total 1\n"),
        "the reconnect reused the lingering counter: {metrics}"
    );
    drop(stream);

    // After a restart nothing is in memory: the first stream seeds it again.
    let restarted = server.start_sharing_db(&[]).await;
    let alice = restarted.token("alice").await;
    let (_stream, connected) = restarted.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 2);
    assert_eq!(unread(&restarted, &alice).await, 2);
}

async fn a_broadcast_writes_no_row_per_user(on: Db) {
    let Some(server) = server(on).await else {
        return;
    };
    let admin = server.token("admin").await;
    for n in 0..50 {
        add_user_fast(&server, n).await;
    }
    let rows = |table: &'static str| {
        let pool = server.state.pool.clone();
        async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let (n,): (i64,) = match &pool {
                Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_one(p).await,
                Pool::Postgres(p) => sqlx::query_as(&sql).fetch_one(p).await,
            }
            .unwrap();
            n
        }
    };
    let before = (
        rows("events").await,
        rows("inbox_state").await,
        rows("user_cursors").await,
    );
    server.broadcast(&admin, "to 53 users").await;
    let after = (
        rows("events").await,
        rows("inbox_state").await,
        rows("user_cursors").await,
    );
    assert_eq!(after, (before.0 + 1, before.1, before.2));
    let history = server.get_json("/api/announcements", &admin).await;
    assert_eq!(history["data"][0]["recipients"], 53);
}

/// A user straight through the store (no password hashing: only their
/// membership matters here).
async fn add_user_fast(server: &TestServer, n: usize) {
    herald::server::store::users::insert_if_absent(
        &server.state.pool,
        &format!("extra{n}"),
        "not-a-hash",
        Role::User,
    )
    .await
    .unwrap();
}
