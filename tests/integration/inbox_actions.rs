//! Issue 19's inbox actions through the real API and stream: snooze (it
//! leaves the count and the inbox, comes back live and unread exactly once,
//! on a cluster and after a restart), archive-read and archive-many (one
//! request, one stream event, exact counts), and a custom event name
//! arriving under its own name.

use herald::server::store::Pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{eventually, SseEvent, SseReader, TestServer};

const FAST_TICKS: (&str, &str) = ("HERALD_SCHEDULER_MS", "20");

/// An RFC 3339 instant `ms` milliseconds from now.
fn in_ms(ms: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::milliseconds(ms))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The next event that is neither a ping nor named otherwise than `name`
/// would fail: returns it whatever it is, so a test sees what came.
async fn next(stream: &mut SseReader) -> SseEvent {
    stream.next_non_ping().await.expect("stream open")
}

async fn next_named(stream: &mut SseReader, name: &str) -> SseEvent {
    let event = next(stream).await;
    assert_eq!(event.event, name, "{event:?}");
    event
}

async fn inbox(server: &TestServer, token: &str) -> (Vec<(i64, String, bool)>, i64) {
    let page = server.get_json("/api/notifications", token).await;
    let items = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_i64().unwrap(),
                n["title"].as_str().unwrap().to_string(),
                n["read"].as_bool().unwrap(),
            )
        })
        .collect();
    (items, page["unread"].as_i64().unwrap())
}

async fn snooze(server: &TestServer, token: &str, id: i64, until: &str) -> reqwest::Response {
    server
        .post_json(
            &format!("/api/notifications/{id}/snooze"),
            token,
            &json!({ "until": until }),
        )
        .await
}

async fn unread_of(res: reqwest::Response) -> i64 {
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["unread"].as_i64().unwrap()
}

async fn scalar(server: &TestServer, sql: &str) -> i64 {
    match &server.state.pool {
        Pool::Sqlite(pool) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(pool).await,
    }
    .unwrap()
    .0
}

/// Broadcasts and waits for it on `stream`; returns its id.
async fn sent(server: &TestServer, admin: &str, stream: &mut SseReader, title: &str) -> i64 {
    server.broadcast(admin, title).await;
    let event = next_named(stream, "notification").await;
    assert_eq!(event.json()["title"], title);
    event.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_snooze_leaves_the_count_and_comes_back_live_unread_once() {
    let server = TestServer::start_with(&[FAST_TICKS]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let keep = sent(&server, &admin, &mut stream, "keep").await;
    let id = sent(&server, &admin, &mut stream, "later").await;

    let unread = unread_of(snooze(&server, &alice, id, &in_ms(700)).await).await;
    assert_eq!(unread, 1);
    let left = next_named(&mut stream, "notification.read").await.json();
    assert_eq!(left["ids"], json!([id]));
    assert_eq!(left["archived"], true);
    assert_eq!(left["unread"], 1);
    assert_eq!(
        inbox(&server, &alice).await,
        (vec![(keep, "keep".into(), false)], 1)
    );

    // Back at its time, as a new entry on top, unread, counted.
    let back = next_named(&mut stream, "notification").await;
    let data = back.json();
    assert_eq!(data["title"], "later");
    assert_eq!(data["unread"], 2);
    let returned = data["id"].as_i64().unwrap();
    assert!(returned > id, "a new position: {returned} after {id}");
    assert_eq!(back.id.as_deref(), Some(returned.to_string().as_str()));
    assert_eq!(
        inbox(&server, &alice).await,
        (
            vec![
                (returned, "later".into(), false),
                (keep, "keep".into(), false)
            ],
            2
        )
    );
    // Once: one return in the log, no snooze left; the next event is the
    // next broadcast, not a second return.
    eventually("the snooze row is gone", async || {
        scalar(&server, "SELECT COUNT(*) FROM snoozes").await == 0
    })
    .await;
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM events WHERE returns IS NOT NULL"
        )
        .await,
        1
    );
    sent(&server, &admin, &mut stream, "after").await;

    // A fresh counter (a stream of its own) agrees with the live one.
    let (_other, connected) = server.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 3);
    // Reading the return counts the announcement's funnel once: the snooze
    // already counted alice as having acted on it.
    let reads = scalar(
        &server,
        &format!("SELECT read_count FROM announcements a JOIN events e ON e.announcement_id = a.id WHERE e.position = {id}"),
    )
    .await;
    server
        .post_json(
            &format!("/api/notifications/{returned}/read"),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(
        next_named(&mut stream, "notification.read").await.json()["unread"],
        2
    );
    let reads_after = scalar(
        &server,
        &format!("SELECT read_count FROM announcements a JOIN events e ON e.announcement_id = a.id WHERE e.position = {id}"),
    )
    .await;
    assert_eq!((reads, reads_after), (1, 1));
}

#[tokio::test]
async fn a_retraction_takes_back_the_return_too() {
    let server = TestServer::start_with(&[FAST_TICKS]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "oops" } }),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let announcement = body["data"]["id"].as_i64().unwrap();
    let id = next_named(&mut stream, "notification").await.json()["id"]
        .as_i64()
        .unwrap();
    unread_of(snooze(&server, &alice, id, &in_ms(300)).await).await;
    next_named(&mut stream, "notification.read").await;
    let back = next_named(&mut stream, "notification").await.json();
    assert_eq!(back["unread"], 1);
    let res = server
        .delete(&format!("/api/announcements/{announcement}"), &admin)
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    // The original (archived by the snooze: the count stays), then the
    // return (unread: the count drops).
    let removed = next_named(&mut stream, "notification.removed").await.json();
    assert_eq!(
        (removed["ids"].clone(), removed["unread"].clone()),
        (json!([id]), json!(1))
    );
    let removed = next_named(&mut stream, "notification.removed").await.json();
    assert_eq!(
        (removed["ids"].clone(), removed["unread"].clone()),
        (json!([back["id"]]), json!(0))
    );
    assert_eq!(inbox(&server, &alice).await, (vec![], 0));
}

#[tokio::test]
async fn a_snooze_outlives_a_restart() {
    // The first server never ticks while the test runs: only the second,
    // started on the same database, can bring it back.
    let first = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "3600000")]).await;
    let admin = first.token("admin").await;
    let alice = first.token("alice").await;
    let (mut stream, _) = first.open_stream(&alice, "").await;
    let id = sent(&first, &admin, &mut stream, "after the restart").await;
    unread_of(snooze(&first, &alice, id, &in_ms(500)).await).await;
    drop(stream);
    first.shutdown.notify_one();

    let second = first.start_sharing_db(&[FAST_TICKS]).await;
    let (mut stream, connected) = second.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 0);
    let back = next_named(&mut stream, "notification").await.json();
    assert_eq!(back["title"], "after the restart");
    assert_eq!(back["unread"], 1);
    assert_eq!(inbox(&second, &alice).await.1, 1);
}

#[tokio::test]
async fn each_snooze_comes_back_once_across_three_instances() {
    let Some(url) = crate::pg::fresh_database().await else {
        return;
    };
    let (a, b, c) = tokio::join!(
        TestServer::start_on(&url, &[FAST_TICKS]),
        TestServer::start_on(&url, &[FAST_TICKS]),
        TestServer::start_on(&url, &[FAST_TICKS]),
    );
    let servers = [a, b, c];
    let admin = servers[0].token("admin").await;
    let alice = servers[0].token("alice").await;
    let mut streams = Vec::new();
    for server in &servers {
        streams.push(server.open_stream(&alice, "").await.0);
    }
    let mut ids = Vec::new();
    for n in 0..6 {
        servers[n % 3].broadcast(&admin, &format!("z{n}")).await;
    }
    for stream in &mut streams {
        for _ in 0..6 {
            let event = next_named(stream, "notification").await;
            if ids.len() < 6 {
                ids.push(event.json()["id"].as_i64().unwrap());
            }
        }
    }
    // Every snooze due at the same instant: three schedulers race for each.
    let until = in_ms(800);
    for (n, id) in ids.iter().enumerate() {
        let unread = unread_of(snooze(&servers[n % 3], &alice, *id, &until).await).await;
        assert_eq!(unread, 5 - n as i64);
    }
    for stream in &mut streams {
        for _ in 0..6 {
            next_named(stream, "notification.read").await;
        }
        let mut titles = Vec::new();
        let mut last_unread = 0;
        for _ in 0..6 {
            let back = next_named(stream, "notification").await.json();
            titles.push(back["title"].as_str().unwrap().to_string());
            last_unread = back["unread"].as_i64().unwrap();
        }
        titles.sort();
        assert_eq!(titles, ["z0", "z1", "z2", "z3", "z4", "z5"]);
        assert_eq!(last_unread, 6);
    }
    eventually("every snooze claimed", async || {
        scalar(&servers[0], "SELECT COUNT(*) FROM snoozes").await == 0
    })
    .await;
    // The log holds each return once; a marker sent now is the next event
    // everywhere, with the exact count.
    assert_eq!(
        scalar(
            &servers[0],
            "SELECT COUNT(*) FROM events WHERE returns IS NOT NULL"
        )
        .await,
        6
    );
    servers[1].broadcast(&admin, "marker").await;
    for stream in &mut streams {
        let marker = next_named(stream, "notification").await.json();
        assert_eq!(
            (marker["title"].as_str(), marker["unread"].as_i64()),
            (Some("marker"), Some(7))
        );
    }
}

#[tokio::test]
async fn a_snooze_is_checked_at_the_door() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let id = sent(&server, &admin, &mut stream, "mine").await;

    for (body, why) in [
        (
            json!({ "until": in_ms(-1000) }),
            "until: must be in the future",
        ),
        (
            json!({ "until": in_ms(91 * 24 * 3600 * 1000) }),
            "until: must be at most 90 days ahead",
        ),
        (json!({ "until": "tomorrow" }), "until: must be an RFC 3339"),
        (json!({ "until": 5 }), "until"),
        (json!({}), "until"),
    ] {
        let res = server
            .post_json(&format!("/api/notifications/{id}/snooze"), &alice, &body)
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().contains(why),
            "{body}: {err}"
        );
    }
    // Someone else's personal notification, and one that does not exist,
    // are the same 404.
    let bob_id = server.user_id(&bob).await;
    let res = server
        .post_json(
            "/api/sse/send-to-user",
            &admin,
            &json!({ "user_id": bob_id, "data": { "title": "bob's" } }),
        )
        .await;
    let bob_position = res.json::<Value>().await.unwrap()["data"]["id"].clone();
    let (bob_items, _) = inbox(&server, &bob).await;
    let bobs = bob_items.iter().find(|n| n.1 == "bob's").unwrap().0;
    let _ = bob_position;
    for other in [bobs, 999_999] {
        let res = snooze(&server, &alice, other, &in_ms(60_000)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = server
        .http
        .post(server.url(&format!("/api/notifications/{id}/snooze")))
        .json(&json!({ "until": in_ms(60_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Nothing was snoozed by any of it.
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM snoozes").await, 0);
    assert_eq!(inbox(&server, &alice).await.1, 1);

    // A script's flood: past the allowance, 429 before any turn is taken;
    // the count and the table hold what was allowed.
    let mut codes = std::collections::BTreeMap::new();
    let until = in_ms(3_600_000);
    let floods = (0..150).map(|_| snooze(&server, &alice, id, &until));
    for res in futures_util::future::join_all(floods).await {
        *codes.entry(res.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        codes.get(&429).copied().unwrap_or(0) + codes.get(&200).copied().unwrap_or(0),
        150
    );
    assert!(codes.get(&429).copied().unwrap_or(0) >= 30, "{codes:?}");
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM snoozes").await, 1);
    assert_eq!(inbox(&server, &alice).await.1, 0);
}

#[tokio::test]
async fn archive_read_is_one_request_one_event_and_keeps_the_count() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    sent(&server, &admin, &mut stream, "old1").await;
    sent(&server, &admin, &mut stream, "old2").await;
    let res = server
        .post_json("/api/notifications/read-all", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    next_named(&mut stream, "notification.read").await;
    let one = sent(&server, &admin, &mut stream, "read one").await;
    let unread = sent(&server, &admin, &mut stream, "unread").await;
    server
        .post_json(
            &format!("/api/notifications/{one}/read"),
            &alice,
            &json!({}),
        )
        .await;
    next_named(&mut stream, "notification.read").await;

    let res = server
        .post_json("/api/notifications/archive-read", &alice, &json!({}))
        .await;
    assert_eq!(unread_of(res).await, 1);
    let swept = next_named(&mut stream, "notification.read").await.json();
    assert_eq!(swept["archived"], true);
    assert!(swept["archived_read_up_to"].as_i64().is_some(), "{swept}");
    assert_eq!(swept["unread"], 1);
    assert_eq!(
        inbox(&server, &alice).await,
        (vec![(unread, "unread".into(), false)], 1)
    );
    // One event: the next one is the next broadcast, counted from 1.
    let next_one = sent(&server, &admin, &mut stream, "next").await;
    let (_again, connected) = server.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 2);
    // Read later, not swept: it stays until the next archive-read.
    server
        .post_json(
            &format!("/api/notifications/{next_one}/read"),
            &alice,
            &json!({}),
        )
        .await;
    next_named(&mut stream, "notification.read").await;
    assert_eq!(inbox(&server, &alice).await.0.len(), 2);
}

#[tokio::test]
async fn archive_many_is_one_request_one_event_all_or_nothing() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(sent(&server, &admin, &mut stream, &format!("m{n}")).await);
    }
    let res = server
        .post_json(
            "/api/notifications/archive",
            &alice,
            &json!({ "ids": [ids[0], ids[2], ids[0]] }),
        )
        .await;
    assert_eq!(unread_of(res).await, 2);
    let event = next_named(&mut stream, "notification.read").await.json();
    assert_eq!(event["ids"], json!([ids[0], ids[2]]));
    assert_eq!(
        (event["archived"].as_bool(), event["unread"].as_i64()),
        (Some(true), Some(2))
    );
    let (items, unread) = inbox(&server, &alice).await;
    assert_eq!(
        (items.iter().map(|n| n.0).collect::<Vec<_>>(), unread),
        (vec![ids[3], ids[1]], 2)
    );

    // One id the user cannot see: 404, and nothing of the request happened.
    let res = server
        .post_json(
            "/api/notifications/archive",
            &alice,
            &json!({ "ids": [ids[1], 999_999] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(inbox(&server, &alice).await.1, 2);
    for (body, status) in [
        (json!({ "ids": [] }), StatusCode::BAD_REQUEST),
        (
            json!({ "ids": (0..101).collect::<Vec<i64>>() }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "ids": "all" }), StatusCode::BAD_REQUEST),
        (json!({}), StatusCode::BAD_REQUEST),
    ] {
        let res = server
            .post_json("/api/notifications/archive", &alice, &body)
            .await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().contains("ids"), "{err}");
    }
    // No event came of the refused ones: the next is the next broadcast.
    sent(&server, &admin, &mut stream, "after").await;
}

#[tokio::test]
async fn a_custom_event_name_arrives_under_its_name_and_pages_are_told_it() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    // A page asks to be told names (`page=1`); an API client does not.
    let (mut page, connected) = server.open_stream(&alice, "?page=1").await;
    assert!(
        connected.json().get("events").is_none(),
        "{}",
        connected.data
    );
    let (mut client, _) = server.open_stream(&alice, "").await;
    let deploy = json!({ "event": "deploy.done", "data": { "title": "v2 is out" } });
    for n in 1..=2 {
        let res = server
            .post_json("/api/sse/broadcast", &admin, &deploy)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        if n == 1 {
            // Once, just before the first notification under the name.
            let told = next_named(&mut page, "event.names").await;
            assert_eq!(told.json(), json!({ "names": ["deploy.done"] }));
            assert_eq!(told.id, None);
        }
        for stream in [&mut page, &mut client] {
            let event = next(stream).await;
            assert_eq!(event.event, "deploy.done", "{event:?}");
            assert_eq!(event.json()["title"], "v2 is out");
            assert_eq!(event.json()["unread"], n);
            assert!(event.id.is_some());
        }
    }
    // A stream opened later is told in `connected`; after a restart too.
    let (_later, connected) = server.open_stream(&alice, "?page=1").await;
    assert_eq!(connected.json()["events"], json!(["deploy.done"]));
    let restarted = server.start_sharing_db(&[]).await;
    let (_after, connected) = restarted.open_stream(&alice, "?page=1").await;
    assert_eq!(connected.json()["events"], json!(["deploy.done"]));
    // A reserved name cannot be sent.
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "event": "event.names", "data": { "title": "x" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_console_hears_of_changes_over_the_admins_stream_coalesced() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    // Pages (`page=1`) get console.changed; an admin's API client does not.
    let (mut console, _) = server.open_stream(&admin, "?page=1").await;
    let (mut api_client, _) = server.open_stream(&admin, "").await;
    let (mut user, _) = server.open_stream(&alice, "?page=1").await;
    // A burst of announcements: every one reaches the streams, the console
    // hears of them at most once a second.
    let started = std::time::Instant::now();
    const BURST: usize = 30;
    for n in 0..BURST {
        server.broadcast(&admin, &format!("b{n}")).await;
    }
    let mut pulses = 0;
    let mut notifications = 0;
    while notifications < BURST || pulses == 0 {
        match next(&mut console).await.event.as_str() {
            "notification" => notifications += 1,
            "console.changed" => pulses += 1,
            other => panic!("unexpected {other}"),
        }
    }
    let seconds = started.elapsed().as_secs() as usize;
    assert!(
        pulses <= seconds + 2,
        "{pulses} console.changed in {seconds} s for {BURST} announcements"
    );
    // Only admins' pages get them: after a pulse, a user's and an API
    // client's next events are the burst and the marker sent after it.
    server.broadcast(&admin, "marker").await;
    for n in 0..=2 * BURST + 1 {
        let (stream, n) = if n <= BURST {
            (&mut user, n)
        } else {
            (&mut api_client, n - BURST - 1)
        };
        let event = next(stream).await;
        assert_eq!(event.event, "notification", "{event:?}");
        if n == BURST {
            assert_eq!(event.json()["title"], "marker");
        }
    }
}

/// `unread_by_category` of an event or a page (absent: `{}`).
fn by_category(data: &Value) -> Value {
    data.get("unread_by_category").cloned().unwrap_or(json!({}))
}

/// Broadcasts in `category` and waits for it; returns the event's data.
async fn sent_in(
    server: &TestServer,
    admin: &str,
    stream: &mut SseReader,
    title: &str,
    category: &str,
) -> Value {
    let res = server
        .post_json(
            "/api/sse/broadcast",
            admin,
            &json!({ "data": { "title": title, "category": category } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let data = next_named(stream, "notification").await.json();
    assert_eq!(data["title"], title);
    data
}

/// `(badge, per-category counts)` three ways: what a page computes, what a
/// fresh stream's counter is seeded with, and `expected`.
async fn counts_agree(server: &TestServer, token: &str, expected: (i64, Value)) {
    let page = server.get_json("/api/notifications", token).await;
    assert_eq!(
        (page["unread"].as_i64().unwrap(), by_category(&page)),
        expected,
        "the page's counts"
    );
    let (_fresh, connected) = server.open_stream(token, "").await;
    let connected = connected.json();
    assert_eq!(
        (
            connected["unread"].as_i64().unwrap(),
            by_category(&connected)
        ),
        expected,
        "a fresh stream's counts"
    );
}

#[tokio::test]
async fn a_snooze_and_its_return_move_their_category_count_like_an_archive_and_an_arrival() {
    let server = TestServer::start_with(&[FAST_TICKS]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    sent_in(&server, &admin, &mut stream, "d1", "deploys").await;
    let d2 = sent_in(&server, &admin, &mut stream, "d2", "deploys").await;
    sent_in(&server, &admin, &mut stream, "b1", "billing").await;
    let id = d2["id"].as_i64().unwrap();
    counts_agree(&server, &alice, (3, json!({"deploys": 2, "billing": 1}))).await;

    // The snooze: its category's count and the badge each drop by one.
    let unread = unread_of(snooze(&server, &alice, id, &in_ms(500)).await).await;
    assert_eq!(unread, 2);
    let left = next_named(&mut stream, "notification.read").await.json();
    assert_eq!(
        (left["unread"].as_i64().unwrap(), by_category(&left)),
        (2, json!({"deploys": 1, "billing": 1}))
    );
    counts_agree(&server, &alice, (2, json!({"deploys": 1, "billing": 1}))).await;

    // The return: both back up, on the live counter (the frame) and in
    // the store; the return is the same notification, category included.
    let back = next_named(&mut stream, "notification").await.json();
    assert_eq!(back["title"], "d2");
    assert_eq!(back["category"], "deploys");
    assert_eq!(
        (back["unread"].as_i64().unwrap(), by_category(&back)),
        (3, json!({"deploys": 2}))
    );
    counts_agree(&server, &alice, (3, json!({"deploys": 2, "billing": 1}))).await;
    // The live counter went on from the return's counts, not a guess.
    let d3 = sent_in(&server, &admin, &mut stream, "d3", "deploys").await;
    assert_eq!(
        (d3["unread"].as_i64().unwrap(), by_category(&d3)),
        (4, json!({"deploys": 3}))
    );

    // Muted, a return moves its category's count but not the badge.
    let res = server
        .put_json(
            "/api/preferences",
            &alice,
            &json!({ "muted": ["deploys"], "desktop": [] }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let prefs = next_named(&mut stream, "preferences").await.json();
    assert_eq!(
        (prefs["unread"].as_i64().unwrap(), by_category(&prefs)),
        (1, json!({"deploys": 3, "billing": 1}))
    );
    let returned = back["id"].as_i64().unwrap();
    assert_eq!(
        unread_of(snooze(&server, &alice, returned, &in_ms(300)).await).await,
        1
    );
    let left = next_named(&mut stream, "notification.read").await.json();
    assert_eq!(
        (left["unread"].as_i64().unwrap(), by_category(&left)),
        (1, json!({"deploys": 2, "billing": 1}))
    );
    let back = next_named(&mut stream, "notification").await.json();
    assert_eq!(
        (back["unread"].as_i64().unwrap(), by_category(&back)),
        (1, json!({"deploys": 3}))
    );
    counts_agree(&server, &alice, (1, json!({"deploys": 3, "billing": 1}))).await;
}
