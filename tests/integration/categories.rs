//! Issue 19: categories, preferences, rich notifications. Every count a
//! stream carries — the badge and each category's — is checked against
//! what the store computes for a fresh page, through reads, archives,
//! retractions, reading one category and muting; muting never raises the
//! badge and never mutes `critical`; a click counts once per user; `data`
//! and `actions` are checked at the edge.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::harness::{SseReader, TestServer};

/// Sends a notification to everyone; returns the answer's `data`.
async fn send(server: &TestServer, admin: &str, data: Value) -> Value {
    let res = server
        .post_json("/api/sse/broadcast", admin, &json!({ "data": data }))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{data}");
    res.json::<Value>().await.unwrap()["data"].clone()
}

async fn put(server: &TestServer, path: &str, token: &str, body: &Value) -> Response {
    server
        .http
        .put(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
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

    let res = put(
        &server,
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
    let res = put(&server, "/api/preferences", &alice, &json!({"muted": []})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["unread"], 3);
    assert_eq!(stored(&server, &alice).await, (3, json!({"deploys": 2})));

    // Refusals name the field.
    for (body, field) in [
        (json!({"muted": ["Not A Slug"]}), "muted:"),
        (json!({"muted": ["nosuch"]}), "muted:"),
        (json!({"desktop": ["nosuch"]}), "desktop:"),
        (json!({"muted": "deploys"}), "invalid JSON body"),
    ] {
        let res = put(&server, "/api/preferences", &alice, &body).await;
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
    let res = put(
        &server,
        "/api/categories/deploys",
        &alice,
        &json!({"label": "Deploys"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = put(
        &server,
        "/api/categories/deploys",
        &admin,
        &json!({"label": "Deploys"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = put(
        &server,
        "/api/categories/deploys",
        &admin,
        &json!({"label": " "}),
    )
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
    let res = put(
        &one,
        "/api/preferences",
        &alice,
        &json!({"muted": ["deploys"]}),
    )
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
