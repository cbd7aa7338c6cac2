//! Issue 19: categories, preferences, rich notifications. Every count a
//! stream carries — the badge and each category's — is checked against
//! what the store computes for a fresh page, through reads, archives,
//! retractions, reading one category and muting; muting never raises the
//! badge and never mutes `critical`; a click counts once per user; `data`
//! and `actions` are checked at the edge.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use herald::server::store::{Backend, Pool};

use crate::harness::{SseReader, TestServer};

/// Sends a notification to everyone; returns the answer's `data`.
pub(crate) async fn send(server: &TestServer, admin: &str, data: Value) -> Value {
    let res = server
        .post_json("/api/sse/broadcast", admin, &json!({ "data": data }))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{data}");
    res.json::<Value>().await.unwrap()["data"].clone()
}

/// The next non-ping event, which must be `name`.
async fn next(stream: &mut SseReader, name: &str) -> Value {
    let e = stream.next_non_ping().await.expect("an event");
    assert_eq!(e.event, name, "{e:?}");
    e.json()
}

/// `(badge, per-category counts)` as the store computes them for a page.
async fn stored(server: &TestServer, token: &str) -> (i64, Value) {
    let page = server.get_json("/api/notifications", token).await;
    let by = page.get("unread_by_category").cloned().unwrap_or(json!({}));
    (page["unread"].as_i64().unwrap(), by)
}

fn by_category(event: &Value) -> Value {
    event
        .get("unread_by_category")
        .cloned()
        .unwrap_or(json!({}))
}

async fn error_of(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn category_counts_stay_exact_through_read_archive_retract_and_category_read() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, connected) = server.open_stream(&alice, "").await;
    assert_eq!(by_category(&connected.json()), json!({}));

    let d1 = send(
        &server,
        &admin,
        json!({"title": "d1", "category": "deploys"}),
    )
    .await;
    let d2 = send(
        &server,
        &admin,
        json!({"title": "d2", "category": "deploys"}),
    )
    .await;
    send(
        &server,
        &admin,
        json!({"title": "b1", "category": "billing"}),
    )
    .await;
    send(&server, &admin, json!({"title": "u1"})).await;
    let mut ids = Vec::new();
    // A notification carries its own category's count (the one it moved).
    for (unread, by) in [
        (1, json!({"deploys": 1})),
        (2, json!({"deploys": 2})),
        (3, json!({"billing": 1})),
        (4, json!({})),
    ] {
        let e = next(&mut stream, "notification").await;
        assert_eq!(
            (e["unread"].as_i64().unwrap(), by_category(&e)),
            (unread, by)
        );
        ids.push(e["id"].as_i64().unwrap());
    }
    assert_eq!(
        stored(&server, &alice).await,
        (4, json!({"deploys": 2, "billing": 1}))
    );

    // Reads carry every category's count.
    let res = server
        .post_json(
            &format!("/api/notifications/{}/read", ids[0]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let e = next(&mut stream, "notification.read").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (3, json!({"deploys": 1, "billing": 1}))
    );
    assert_eq!(stored(&server, &alice).await, (3, by_category(&e)));

    let res = server
        .post_json(
            &format!("/api/notifications/{}/archive", ids[2]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let e = next(&mut stream, "notification.read").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (2, json!({"deploys": 1}))
    );
    assert_eq!(stored(&server, &alice).await, (2, json!({"deploys": 1})));

    // Retracting d1 (read) moves nothing; d2 (unread) takes one from deploys.
    for (announcement, unread, deploys) in [(&d1, 2, 1), (&d2, 1, 0)] {
        let id = announcement["id"].as_i64().unwrap();
        let res = server
            .delete(&format!("/api/announcements/{id}"), &admin)
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let e = next(&mut stream, "notification.removed").await;
        assert_eq!(e["unread"].as_i64().unwrap(), unread);
        assert_eq!(by_category(&e), json!({"deploys": deploys}));
    }
    assert_eq!(stored(&server, &alice).await, (1, json!({})));

    // Reading one category: one request, one event, the others untouched.
    send(
        &server,
        &admin,
        json!({"title": "d3", "category": "deploys"}),
    )
    .await;
    send(
        &server,
        &admin,
        json!({"title": "b2", "category": "billing"}),
    )
    .await;
    next(&mut stream, "notification").await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(e["unread"], 3);
    let res = server
        .post_json(
            "/api/notifications/read-all",
            &alice,
            &json!({"category": "deploys"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["unread"], 2);
    let e = next(&mut stream, "notification.read").await;
    assert_eq!(e["category"], "deploys");
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (2, json!({"billing": 1}))
    );
    assert_eq!(stored(&server, &alice).await, (2, json!({"billing": 1})));
    let page = server.get_json("/api/notifications", &alice).await;
    let unread_titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["read"] == false)
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(unread_titles, ["b2", "u1"]);

    // A notification after it counts again in its category; bob, who read
    // nothing, has his own counts; a second tab starts from the same ones.
    send(
        &server,
        &admin,
        json!({"title": "d4", "category": "deploys"}),
    )
    .await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (3, json!({"deploys": 1}))
    );
    let (_tab, connected) = server.open_stream(&alice, "").await;
    let c = connected.json();
    assert_eq!(
        (c["unread"].as_i64().unwrap(), by_category(&c)),
        (3, json!({"deploys": 1, "billing": 1}))
    );
    assert_eq!(stored(&server, &alice).await, (3, by_category(&c)));
    let bob = server.token("bob").await;
    assert_eq!(
        stored(&server, &bob).await,
        (5, json!({"deploys": 2, "billing": 2}))
    );

    // Refusals name the field.
    let res = server
        .post_json(
            "/api/notifications/read-all",
            &alice,
            &json!({"category": "Nope!"}),
        )
        .await;
    assert!(error_of(res, StatusCode::BAD_REQUEST)
        .await
        .starts_with("category:"));
    let res = server
        .post_json(
            "/api/notifications/read-all",
            &alice,
            &json!({"category": "nosuch"}),
        )
        .await;
    assert!(error_of(res, StatusCode::BAD_REQUEST)
        .await
        .starts_with("category:"));
}

#[tokio::test]
async fn muted_categories_never_raise_the_badge_and_critical_is_never_muted() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    send(
        &server,
        &admin,
        json!({"title": "d1", "category": "deploys"}),
    )
    .await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let (mut tab2, connected) = server.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 1);

    let res = server
        .put_json(
            "/api/preferences",
            &alice,
            &json!({"muted": ["deploys"], "desktop": []}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(
        (saved["unread"].as_i64().unwrap(), by_category(&saved)),
        (0, json!({"deploys": 1}))
    );
    // Every tab takes the preferences and the badge under them.
    for tab in [&mut stream, &mut tab2] {
        let e = next(tab, "preferences").await;
        assert_eq!(e["muted"], json!(["deploys"]));
        assert_eq!(e["unread"], 0);
    }
    assert_eq!(
        server.get_json("/api/preferences", &alice).await["muted"],
        json!(["deploys"])
    );

    send(
        &server,
        &admin,
        json!({"title": "d2", "category": "deploys"}),
    )
    .await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (0, json!({"deploys": 2}))
    );
    send(
        &server,
        &admin,
        json!({"title": "d3", "category": "deploys", "severity": "critical"}),
    )
    .await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (1, json!({"deploys": 3}))
    );
    let critical = e["id"].as_i64().unwrap();
    send(&server, &admin, json!({"title": "u1"})).await;
    assert_eq!(next(&mut stream, "notification").await["unread"], 2);
    assert_eq!(stored(&server, &alice).await, (2, json!({"deploys": 3})));
    // Bob muted nothing: everything counts for him.
    assert_eq!(stored(&server, &bob).await.0, 4);

    // Reading the critical one takes it from the badge.
    let res = server
        .post_json(
            &format!("/api/notifications/{critical}/read"),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let e = next(&mut stream, "notification.read").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (1, json!({"deploys": 2}))
    );
    // A fresh counter (a restart) agrees with the live one.
    drop((stream, tab2));
    let restarted = server.start_sharing_db(&[]).await;
    let (_s, connected) = restarted.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 1);

    // Unmuting brings the muted ones back into the badge.
    let res = server
        .put_json("/api/preferences", &alice, &json!({"muted": []}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["unread"], 3);
    assert_eq!(stored(&server, &alice).await, (3, json!({"deploys": 2})));

    // Refusals name the field.
    for (body, field) in [
        (json!({"muted": ["Not A Slug"]}), "muted:"),
        (json!({"muted": ["nosuch"]}), "muted:"),
        (json!({"desktop": ["nosuch"]}), "desktop:"),
        (json!({"muted": "deploys"}), "invalid JSON body"),
    ] {
        let res = server.put_json("/api/preferences", &alice, &body).await;
        let error = error_of(res, StatusCode::BAD_REQUEST).await;
        assert!(error.starts_with(field), "{body}: {error}");
    }
    // Signed out: 401.
    let res = server
        .http
        .get(server.url("/api/preferences"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn data_and_actions_travel_and_clicks_count_once_per_user() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let actions = json!([
        {"label": "Review", "url": "/security"},
        {"label": "Docs", "url": "https://example.com/docs"}
    ]);
    let sent = send(
        &server,
        &admin,
        json!({"title": "New sign-in", "category": "security", "data": {"ip": "10.0.0.1", "n": [1, 2]}, "actions": actions}),
    )
    .await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(e["data"], json!({"ip": "10.0.0.1", "n": [1, 2]}));
    assert_eq!(e["actions"], actions);
    assert_eq!(e["category"], "security");
    let id = e["id"].as_i64().unwrap();
    let item = &server.get_json("/api/notifications", &alice).await["items"][0];
    assert_eq!((&item["data"], &item["actions"]), (&e["data"], &actions));

    let click = |token: &str, body: Value| {
        let (server, token) = (&server, token.to_string());
        async move {
            server
                .post_json(&format!("/api/notifications/{id}/click"), &token, &body)
                .await
        }
    };
    let first = |res: Response| async move {
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()["first"]
            .as_bool()
            .unwrap()
    };
    assert!(first(click(&alice, json!({"action": 0})).await).await);
    assert!(!first(click(&alice, json!({"action": 1})).await).await);
    assert!(!first(click(&alice, json!({})).await).await);
    assert!(first(click(&bob, json!({"action": 1})).await).await);
    let error = error_of(
        click(&bob, json!({"action": 2})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(error.starts_with("action:"), "{error}");
    let history = server.get_json("/api/announcements", &admin).await;
    let row = &history["data"][0];
    assert_eq!(row["id"], sent["id"]);
    assert_eq!(row["clicked"], 2);

    // Nothing to click on a notification without actions; nobody clicks
    // what they cannot see.
    send(&server, &admin, json!({"title": "plain"})).await;
    let plain = next(&mut stream, "notification").await["id"]
        .as_i64()
        .unwrap();
    let res = server
        .post_json(
            &format!("/api/notifications/{plain}/click"),
            &alice,
            &json!({}),
        )
        .await;
    assert!(error_of(res, StatusCode::BAD_REQUEST)
        .await
        .starts_with("action:"));
    let res = server
        .post_json("/api/notifications/999999/click", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn data_actions_and_categories_are_checked_at_the_edge() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let big = "x".repeat(4 * 1024);
    for (data, field) in [
        (json!({"title": "t", "data": {"k": big}}), "data:"),
        (json!({"title": "t", "data": [1]}), "data:"),
        (json!({"title": "t", "category": "Bad Slug"}), "category:"),
        (
            json!({"title": "t", "actions": [{"label": "a", "url": "/a"}, {"label": "b", "url": "/b"}, {"label": "c", "url": "/c"}]}),
            "actions:",
        ),
        (
            json!({"title": "t", "actions": [{"label": "a", "url": "javascript:alert(1)"}]}),
            "actions.url:",
        ),
        (
            json!({"title": "t", "actions": [{"label": "a", "url": "//evil.example"}]}),
            "actions.url:",
        ),
        (
            json!({"title": "t", "actions": [{"label": " ", "url": "/a"}]}),
            "actions.label:",
        ),
    ] {
        let res = server
            .post_json("/api/sse/broadcast", &admin, &json!({ "data": data }))
            .await;
        let error = error_of(res, StatusCode::BAD_REQUEST).await;
        assert!(error.starts_with(field), "{data}: {error}");
    }
    // Nothing refused was stored, nor its category created.
    assert_eq!(server.get_json("/api/categories", &alice).await, json!([]));

    // A category is created on first use, with its slug as its label;
    // admins rename it, users cannot.
    send(
        &server,
        &admin,
        json!({"title": "t", "category": "deploys"}),
    )
    .await;
    assert_eq!(
        server.get_json("/api/categories", &alice).await,
        json!([{"slug": "deploys", "label": "deploys"}])
    );
    let res = server
        .put_json(
            "/api/categories/deploys",
            &alice,
            &json!({"label": "Deploys"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = server
        .put_json(
            "/api/categories/deploys",
            &admin,
            &json!({"label": "Deploys"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .put_json("/api/categories/deploys", &admin, &json!({"label": " "}))
        .await;
    assert!(error_of(res, StatusCode::BAD_REQUEST)
        .await
        .starts_with("label:"));
    assert_eq!(
        server.get_json("/api/categories", &alice).await,
        json!([{"slug": "deploys", "label": "Deploys"}])
    );
}

/// On PostgreSQL a preference change is a control entry: an instance that
/// did not handle the request applies it in log order, so its streams take
/// the new badge and leave the muted category out of the next ones.
#[tokio::test]
async fn preferences_reach_the_streams_of_every_instance() {
    let Some(one) = TestServer::start_postgres(&[]).await else {
        return;
    };
    let two = one.start_sharing_db(&[]).await;
    let admin = one.token("admin").await;
    let alice = one.token("alice").await;
    send(&one, &admin, json!({"title": "d1", "category": "deploys"})).await;
    let (mut stream, connected) = two.open_stream(&alice, "").await;
    assert_eq!(connected.json()["unread"], 1);
    let res = one
        .put_json("/api/preferences", &alice, &json!({"muted": ["deploys"]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let e = next(&mut stream, "preferences").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (0, json!({"deploys": 1}))
    );
    send(&one, &admin, json!({"title": "d2", "category": "deploys"})).await;
    let e = next(&mut stream, "notification").await;
    assert_eq!(
        (e["unread"].as_i64().unwrap(), by_category(&e)),
        (0, json!({"deploys": 2}))
    );
}

/// The titles of a page of `query` (e.g. `category=deploys&limit=2`), the
/// page's counts, and its `next_before`.
async fn page_of(server: &TestServer, token: &str, query: &str) -> (Vec<String>, Value) {
    let page = server
        .get_json(&format!("/api/notifications?{query}"), token)
        .await;
    let titles = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {page}"))
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect();
    (titles, page)
}

/// A category's page is the whole inbox's of that category: same filters,
/// same order, every one of them.
async fn agrees_with_the_inbox(server: &TestServer, token: &str, category: &str) -> Vec<String> {
    let (_, whole) = page_of(server, token, "limit=100").await;
    let expected: Vec<String> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["category"] == category)
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect();
    assert!(expected.len() < 100, "the inbox fits one page");
    let (titles, _) = page_of(server, token, &format!("category={category}&limit=100")).await;
    assert_eq!(titles, expected, "the {category} page");
    titles
}

#[tokio::test]
async fn a_category_page_lists_that_category_alone_newest_first_and_pages_back() {
    let server = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "20")]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let alice_id = server.user_id(&alice).await;
    let bob_id = server.user_id(&bob).await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    for (title, category) in [
        ("d1", Some("deploys")),
        ("b1", Some("billing")),
        ("d2", Some("deploys")),
        ("u1", None),
        ("d3", Some("deploys")),
    ] {
        let mut data = json!({ "title": title });
        if let Some(c) = category {
            data["category"] = json!(c);
        }
        send(&server, &admin, data).await;
    }
    // Personal ones go through the user's own channel: a second span.
    for (user, title) in [(alice_id, "d4"), (bob_id, "bob's d")] {
        let res = server
            .post_json(
                "/api/sse/send-to-user",
                &admin,
                &json!({ "user_id": user, "data": { "title": title, "category": "deploys" } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut ids = std::collections::HashMap::new();
    for _ in 0..6 {
        let e = next(&mut stream, "notification").await;
        ids.insert(
            e["title"].as_str().unwrap().to_string(),
            e["id"].as_i64().unwrap(),
        );
    }

    // Newest first, that category only, paged with `before`; the counts
    // are the whole inbox's.
    let (titles, page) = page_of(&server, &alice, "category=deploys&limit=2").await;
    assert_eq!(titles, ["d4", "d3"]);
    assert_eq!(page["unread"], 6);
    assert_eq!(
        page["unread_by_category"],
        json!({"deploys": 4, "billing": 1})
    );
    let next_before = page["next_before"].as_i64().unwrap();
    assert_eq!(next_before, ids["d3"]);
    let (titles, page) = page_of(
        &server,
        &alice,
        &format!("category=deploys&limit=2&before={next_before}"),
    )
    .await;
    assert_eq!(titles, ["d2", "d1"]);
    let last = page["next_before"].as_i64().unwrap();
    let (titles, page) = page_of(
        &server,
        &alice,
        &format!("category=deploys&limit=2&before={last}"),
    )
    .await;
    assert!(titles.is_empty());
    assert_eq!(page["next_before"], Value::Null);
    assert_eq!(
        agrees_with_the_inbox(&server, &alice, "billing").await,
        ["b1"]
    );
    assert_eq!(
        agrees_with_the_inbox(&server, &bob, "deploys").await,
        ["bob's d", "d3", "d2", "d1"]
    );

    // Read stays listed (read), archived and retracted go, as in the inbox.
    let res = server
        .post_json(
            &format!("/api/notifications/{}/read", ids["d3"]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = server
        .post_json(
            &format!("/api/notifications/{}/archive", ids["d2"]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = page_of(&server, &alice, "category=deploys").await;
    assert_eq!(page["items"][1]["read"], true, "{page}");
    assert_eq!(
        agrees_with_the_inbox(&server, &alice, "deploys").await,
        ["d4", "d3", "d1"]
    );
    let d1 = server.get_json("/api/announcements", &admin).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "d1")
        .map(|a| a["id"].as_i64().unwrap())
        .unwrap();
    let res = server
        .delete(&format!("/api/announcements/{d1}"), &admin)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Archive-read sweeps the read ones (d3) out of every page.
    let res = server
        .post_json("/api/notifications/archive-read", &alice, &json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        agrees_with_the_inbox(&server, &alice, "deploys").await,
        ["d4"]
    );

    // A snooze's return is listed in its category, on top.
    let until = (time::OffsetDateTime::now_utc() + time::Duration::milliseconds(300))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let res = server
        .post_json(
            &format!("/api/notifications/{}/snooze", ids["d4"]),
            &alice,
            &json!({ "until": until }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(agrees_with_the_inbox(&server, &alice, "deploys")
        .await
        .is_empty());
    let back = loop {
        let e = stream.next_non_ping().await.expect("an event");
        if e.event == "notification" {
            break e.json();
        }
    };
    assert_eq!(back["title"], "d4");
    send(
        &server,
        &admin,
        json!({ "title": "b2", "category": "billing" }),
    )
    .await;
    assert_eq!(
        agrees_with_the_inbox(&server, &alice, "deploys").await,
        ["d4"]
    );
    let (titles, _) = page_of(&server, &alice, "category=deploys&limit=1").await;
    assert_eq!(titles, ["d4"]);

    // A valid slug nobody used: an empty page, the whole counts.
    let (titles, page) = page_of(&server, &alice, "category=nothing-here").await;
    assert!(titles.is_empty());
    assert_eq!(page["unread"], 4);
    // A bad one is refused, naming the field.
    for bad in ["Bad%20Slug", "9lives", "x%27%3B"] {
        let res = server
            .get(&format!("/api/notifications?category={bad}"), &alice)
            .await;
        let error = error_of(res, StatusCode::BAD_REQUEST).await;
        assert!(error.starts_with("category:"), "{bad}: {error}");
    }
    // No category (or an empty one) is the whole inbox, as before.
    let whole = server.get_json("/api/notifications", &alice).await;
    assert_eq!(
        server
            .get_json("/api/notifications?category=", &alice)
            .await,
        whole
    );
    let titles: Vec<&str> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["b2", "d4", "u1", "b1"]);

    // The API document says so.
    let doc = server.get_json("/api/openapi.json", &alice).await;
    let params: Vec<(&str, &str)> = doc["paths"]["/api/notifications"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            ("before", "query"),
            ("limit", "query"),
            ("category", "query")
        ]
    );
}

/// Cost grows with the page, not the log: SQLite reads a category's page
/// of one span from `events_by_category`, one range, never the channel's
/// whole log.
#[tokio::test]
async fn a_category_page_is_one_index_range_per_span() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plan.db", dir.path().display());
    let Pool::Sqlite(pool) = herald::server::store::open(&url).await.unwrap() else {
        unreachable!("a sqlite:// URL")
    };
    let sql = format!(
        "EXPLAIN QUERY PLAN {}",
        herald::server::store::notifications::category_span_sql(Backend::Sqlite)
    );
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&sql)
        .bind(1_i64)
        .bind(0_i64)
        .bind("all")
        .bind(0_i64)
        .bind(100_i64)
        .bind(20_i64)
        .bind("deploys")
        .fetch_all(&pool)
        .await
        .unwrap();
    let details: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
    let events = details
        .iter()
        .find(|d| d.contains(" e ") || d.ends_with(" e"))
        .unwrap_or_else(|| panic!("{details:?}"));
    assert!(
        events.starts_with("SEARCH e USING INDEX events_by_category (channel=? AND category=? AND position>? AND position<?)"),
        "{details:?}"
    );
    // Newest first straight from the index: no sort of the range.
    assert!(
        !details.iter().any(|d| d.contains("TEMP B-TREE")),
        "{details:?}"
    );
}

/// Runs `sql` on the server's database, whichever it is.
async fn exec(server: &TestServer, sql: &str) {
    match &server.state.pool {
        Pool::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The same on PostgreSQL: of the two indexes that could serve a span
/// (`events_by_channel` and `events_by_category`), the planner takes the
/// category's. Its table is empty here, so sequential scans are ruled out
/// first: they would say nothing about the indexes.
#[tokio::test]
async fn on_postgresql_a_category_page_reads_its_index_too() {
    let Some(server) = TestServer::start_postgres(&[]).await else {
        return;
    };
    let Pool::Postgres(pool) = &server.state.pool else {
        unreachable!("a PostgreSQL server")
    };
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    let sql = format!(
        "EXPLAIN {}",
        herald::server::store::notifications::category_span_sql(Backend::Postgres)
    );
    let plan: Vec<(String,)> = sqlx::query_as(&sql)
        .bind(1_i64)
        .bind(0_i64)
        .bind("all")
        .bind(0_i64)
        .bind(100_i64)
        .bind(20_i64)
        .bind("deploys")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|(line,)| line).collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("Index Scan Backward using events_by_category on events e")),
        "{plan:#?}"
    );
    assert!(
        !plan
            .iter()
            .any(|l| l.contains("events_by_channel") || l.contains("Sort")),
        "{plan:#?}"
    );
}

/// A log written before entries carried their category (the migration
/// taken back out, as if never run) gets it from its announcements when
/// the migration runs: its tabs list what was sent before the upgrade.
#[tokio::test]
async fn the_migration_gives_earlier_entries_their_category() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    for (title, category) in [("d1", "deploys"), ("b1", "billing"), ("d2", "deploys")] {
        send(
            &server,
            &admin,
            json!({ "title": title, "category": category }),
        )
        .await;
    }
    send(&server, &admin, json!({ "title": "u1" })).await;
    exec(&server, "DROP INDEX events_by_category").await;
    exec(&server, "ALTER TABLE events DROP COLUMN category").await;
    exec(
        &server,
        "DELETE FROM _sqlx_migrations WHERE version = 20261204000002",
    )
    .await;

    let upgraded = server.start_sharing_db(&[]).await;
    let alice = upgraded.token("alice").await;
    let (titles, _) = page_of(&upgraded, &alice, "category=deploys").await;
    assert_eq!(titles, ["d2", "d1"]);
    assert_eq!(
        agrees_with_the_inbox(&upgraded, &alice, "billing").await,
        ["b1"]
    );
}
