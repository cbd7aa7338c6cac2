//! Publishing under hostile conditions (issue 11, points 4, 6, 7 and part of
//! 8): retries with `Idempotency-Key`, failures in the middle of a publish,
//! the scheduler meeting a bad announcement, SQLite write contention,
//! export caps and clean-up, and the modes of Herald's private files.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use herald::{
    model::Role,
    server::{
        auth::password::Hashers,
        config::Config,
        state::AppState,
        store::now_ms,
        usecases::{accounts, schedule},
    },
};
use leptos::prelude::LeptosOptions;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::{
    announcements::in_ms,
    harness::{eventually, SseReader, TestServer, PASSWORD},
};

async fn post_keyed(
    server: &TestServer,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Response {
    server
        .http
        .post(server.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn status_and_json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Titles in the admin's history, newest first.
async fn history_titles(server: &TestServer, admin: &str) -> Vec<String> {
    let history = server.get_json("/api/announcements", admin).await;
    history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

fn count(titles: &[String], title: &str) -> usize {
    titles.iter().filter(|t| *t == title).count()
}

/// Sends a marker and reads the stream up to it: the titles that came first.
async fn titles_before_marker(
    server: &TestServer,
    admin: &str,
    stream: &mut SseReader,
    marker: &str,
) -> Vec<String> {
    server.broadcast(admin, marker).await;
    let mut seen = Vec::new();
    loop {
        let event = stream.next_non_ping().await.expect("stream open");
        if event.event != "notification" {
            continue;
        }
        let title = event.json()["title"].as_str().unwrap().to_string();
        if title == marker {
            return seen;
        }
        seen.push(title);
    }
}

async fn sql(server: &TestServer, statement: &str) {
    sqlx::query(statement)
        .execute(server.state.pool.as_sqlite().expect("SQLite"))
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

// ---- point 6: Idempotency-Key -------------------------------------------

#[tokio::test]
async fn a_retried_publish_returns_the_first_result_and_sends_once() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let body = json!({ "data": { "title": "once", "body": "b" } });

    let first =
        status_and_json(post_keyed(&server, "/api/sse/broadcast", &admin, "k-1", &body).await)
            .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let retry =
        status_and_json(post_keyed(&server, "/api/sse/broadcast", &admin, "k-1", &body).await)
            .await;
    assert_eq!(
        retry, first,
        "a retry gets the first result, status and body"
    );

    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker").await,
        ["once"],
        "the stream got exactly one event"
    );
    assert_eq!(count(&history_titles(&server, &admin).await, "once"), 1);

    // The same key for another request: refused, and nothing sent.
    let other = json!({ "data": { "title": "twice?", "body": "b" } });
    let (status, error) =
        status_and_json(post_keyed(&server, "/api/sse/broadcast", &admin, "k-1", &other).await)
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["success"], false);
    assert!(
        error["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{error}"
    );
    let alice_id = server.user_id(&alice).await;
    let to_user = json!({ "user_id": alice_id, "data": { "title": "once", "body": "b" } });
    let (status, _) = status_and_json(
        post_keyed(&server, "/api/sse/send-to-user", &admin, "k-1", &to_user).await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another route is another request"
    );
    assert_eq!(count(&history_titles(&server, &admin).await, "twice?"), 0);

    // send-to-user keeps its own first result too.
    let first = status_and_json(
        post_keyed(&server, "/api/sse/send-to-user", &admin, "k-2", &to_user).await,
    )
    .await;
    let retry = status_and_json(
        post_keyed(&server, "/api/sse/send-to-user", &admin, "k-2", &to_user).await,
    )
    .await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(retry, first);
    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker 2").await,
        ["once"]
    );
}

#[tokio::test]
async fn malformed_keys_are_refused_by_name() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let body = json!({ "data": { "title": "never" } });
    for key in ["k".repeat(256), "tab\there".to_string(), String::new()] {
        let (status, error) =
            status_and_json(post_keyed(&server, "/api/sse/broadcast", &admin, &key, &body).await)
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}: {error}");
        assert!(
            error["error"].as_str().unwrap().contains("Idempotency-Key"),
            "{error}"
        );
    }
    assert_eq!(count(&history_titles(&server, &admin).await, "never"), 0);
}

/// A key names one sender's request: two admins who happen to pick the same
/// key for the same body (a shared client library counting from 1, say) are
/// two requests, and each gets its own announcement — neither gets the
/// other's result back. Each one's retry still gets its own first result.
#[tokio::test]
async fn an_idempotency_key_is_per_user_so_two_admins_make_two_announcements() {
    let server = TestServer::start().await;
    let hashers = Hashers::new(1, Duration::from_secs(5)).unwrap();
    accounts::add_user(
        &server.state.pool,
        &hashers,
        "second-admin",
        PASSWORD,
        Role::Admin,
    )
    .await
    .unwrap();
    let admins = [
        server.token("admin").await,
        server.token("second-admin").await,
    ];
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let body = json!({ "data": { "title": "same key, same body", "body": "b" } });

    let mut firsts = Vec::new();
    for admin in &admins {
        let first = status_and_json(
            post_keyed(&server, "/api/sse/broadcast", admin, "shared", &body).await,
        )
        .await;
        assert_eq!(first.0, StatusCode::OK, "{}", first.1);
        let retry = status_and_json(
            post_keyed(&server, "/api/sse/broadcast", admin, "shared", &body).await,
        )
        .await;
        assert_eq!(
            retry, first,
            "each admin's retry gets their own first result"
        );
        firsts.push(first.1);
    }
    assert_ne!(firsts[0], firsts[1], "two results, not one shared");

    assert_eq!(
        titles_before_marker(&server, &admins[0], &mut stream, "marker").await,
        ["same key, same body", "same key, same body"],
        "alice got both"
    );
    assert_eq!(
        count(
            &history_titles(&server, &admins[0]).await,
            "same key, same body"
        ),
        2
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_key_make_one_announcement() {
    let server = Arc::new(TestServer::start().await);
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let body = json!({ "data": { "title": "raced", "body": "b" } });

    let requests: Vec<_> = (0..8)
        .map(|_| {
            let (server, admin, body) = (server.clone(), admin.clone(), body.clone());
            tokio::spawn(async move {
                status_and_json(
                    post_keyed(&server, "/api/sse/broadcast", &admin, "race", &body).await,
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(count(&history_titles(&server, &admin).await, "raced"), 1);
    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker").await,
        ["raced"]
    );
}

#[tokio::test]
async fn a_key_older_than_a_day_matches_nothing() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let first = json!({ "data": { "title": "yesterday" } });
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "old", &first).await;
    assert_eq!(res.status(), StatusCode::OK);
    let day_ago = now_ms() - 25 * 3600 * 1000;
    sql(
        &server,
        &format!("UPDATE idempotency_keys SET created_at = {day_ago}"),
    )
    .await;

    let second = json!({ "data": { "title": "today" } });
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "old", &second).await;
    assert_eq!(res.status(), StatusCode::OK, "an expired key is free again");
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "old", &second).await;
    assert_eq!(res.status(), StatusCode::OK);
    let titles = history_titles(&server, &admin).await;
    assert_eq!(
        (count(&titles, "yesterday"), count(&titles, "today")),
        (1, 1)
    );
}

#[tokio::test]
async fn the_sweeper_prunes_expired_keys() {
    let server = TestServer::start_with(&[("HERALD_SESSION_SWEEP_SECS", "1")]).await;
    let admin = server.token("admin").await;
    for key in ["stale", "fresh"] {
        let body = json!({ "data": { "title": key } });
        let res = post_keyed(&server, "/api/sse/broadcast", &admin, key, &body).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let day_ago = now_ms() - 25 * 3600 * 1000;
    sql(
        &server,
        &format!("UPDATE idempotency_keys SET created_at = {day_ago} WHERE key = 'stale'"),
    )
    .await;
    let keys = || async {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT key FROM idempotency_keys ORDER BY key")
            .fetch_all(server.state.pool.as_sqlite().expect("SQLite"))
            .await
            .unwrap();
        rows.into_iter().map(|(k,)| k).collect::<Vec<_>>()
    };
    eventually("the stale key to be pruned", async || {
        keys().await == ["fresh"]
    })
    .await;
}

// ---- point 6: all or nothing ----------------------------------------------

#[tokio::test]
async fn a_failing_audit_row_rolls_the_whole_publish_back() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    sql(
        &server,
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END",
    )
    .await;

    let doomed = json!({ "data": { "title": "doomed" } });
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "retry-me", &doomed).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    sql(&server, "DROP TRIGGER audit_down").await;

    // Nothing of it was stored or delivered...
    assert_eq!(count(&history_titles(&server, &admin).await, "doomed"), 0);
    let inbox = server.get_json("/api/notifications", &alice).await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 0, "{inbox}");
    // ...so the client's retry (same key) sends it, once.
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "retry-me", &doomed).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker").await,
        ["doomed"],
        "the failed attempt reached no stream"
    );
}

#[tokio::test]
async fn a_failure_after_delivery_does_not_answer_500() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    // The funnel's "delivered" mark, written after publishing, cannot be stored.
    sql(
        &server,
        "CREATE TRIGGER funnel_down BEFORE UPDATE OF delivered_up_to ON user_cursors
         BEGIN SELECT RAISE(ABORT, 'funnel unavailable'); END",
    )
    .await;
    let body = json!({ "data": { "title": "delivered" } });
    let res = post_keyed(&server, "/api/sse/broadcast", &admin, "d-1", &body).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "it was sent: the sender must hear so"
    );
    let shown = stream.next_non_ping().await.unwrap();
    assert_eq!(shown.json()["title"], "delivered");
    // Showing it again — an inbox page, a resumed stream's replay — marks it
    // too, and must not fail either while the marks cannot be stored.
    let page = server
        .http
        .get(server.url("/api/notifications"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the inbox page");
    let (mut resumed, _) = server.open_stream(&alice, "?last_event_id=0").await;
    assert_eq!(
        resumed.next_non_ping().await.unwrap().json()["title"],
        "delivered",
        "the replay"
    );
    sql(&server, "DROP TRIGGER funnel_down").await;
    assert_eq!(
        count(&history_titles(&server, &admin).await, "delivered"),
        1
    );
}

#[tokio::test]
async fn the_scheduler_delivers_what_it_committed_when_a_later_one_fails() {
    // The background scheduler stays out of the way; the test runs it.
    let server = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "3600000")]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    for title in ["on time", "poison"] {
        let res = server
            .post_json(
                "/api/sse/broadcast",
                &admin,
                &json!({ "data": { "title": title }, "send_at": in_ms(3_600_000) }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Both fall due together; the second cannot be copied into inboxes.
    sql(
        &server,
        &format!("UPDATE announcements SET send_at = {}", now_ms() - 1000),
    )
    .await;
    sql(
        &server,
        "CREATE TRIGGER poisoned BEFORE INSERT ON events
         WHEN (SELECT title FROM announcements WHERE id = NEW.announcement_id) = 'poison'
         BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    )
    .await;

    let _ = schedule::run(&server.state).await;
    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker").await,
        ["on time"],
        "the committed announcement was delivered live"
    );

    // The failed one stays scheduled and goes out once it can.
    sql(&server, "DROP TRIGGER poisoned").await;
    let _ = schedule::run(&server.state).await;
    assert_eq!(
        titles_before_marker(&server, &admin, &mut stream, "marker 2").await,
        ["poison"]
    );
}

#[tokio::test]
async fn an_expiry_that_cannot_be_audited_leaves_the_announcement_in_place() {
    let server = TestServer::start_with(&[("HERALD_SCHEDULER_MS", "3600000")]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let mut ids = Vec::new();
    for title in ["expires", "stuck"] {
        let res = server
            .post_json(
                "/api/sse/broadcast",
                &admin,
                &json!({ "data": { "title": title }, "expires_at": in_ms(3_600_000) }),
            )
            .await;
        ids.push(
            res.json::<Value>().await.unwrap()["data"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    sql(
        &server,
        &format!("UPDATE announcements SET expires_at = {}", now_ms() - 1000),
    )
    .await;
    sql(
        &server,
        &format!(
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log WHEN NEW.target = '#{}'
             BEGIN SELECT RAISE(ABORT, 'no'); END",
            ids[1]
        ),
    )
    .await;
    let (mut stream, _) = server.open_stream(&alice, "").await;

    let _ = schedule::run(&server.state).await;
    let removed = stream.next_non_ping().await.unwrap();
    assert_eq!(removed.event, "notification.removed");
    let inbox = server.get_json("/api/notifications", &alice).await;
    let titles: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["stuck"], "removal and audit row commit together");
}

// ---- point 7: SQLite write contention ------------------------------------

#[tokio::test]
async fn reading_archiving_and_read_all_during_broadcasts_never_fail() {
    const BROADCASTS: usize = 150;
    const MAX_ROUNDS: usize = 2_000;
    let server =
        Arc::new(TestServer::start_with(&[("HERALD_PUBLISH_PER_MINUTE", "1000000")]).await);
    let admin = server.token("admin").await;
    for n in 0..10 {
        server.broadcast(&admin, &format!("seed {n}")).await;
    }
    let mut tokens = Vec::new();
    for name in ["alice", "bob", "alice", "bob"] {
        tokens.push(server.token(name).await);
    }
    let done = Arc::new(AtomicBool::new(false));

    let broadcaster = {
        let (server, admin, done) = (server.clone(), admin.clone(), done.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            for n in 0..BROADCASTS {
                let res = server
                    .post_json(
                        "/api/sse/broadcast",
                        &admin,
                        &json!({ "data": { "title": format!("b{n}") } }),
                    )
                    .await;
                if res.status().is_server_error() {
                    failures.push(res.status());
                }
            }
            done.store(true, Ordering::Relaxed);
            failures
        })
    };
    let mut readers = Vec::new();
    for token in tokens {
        let (server, done) = (server.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for round in 0..MAX_ROUNDS {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let page = server.get("/api/notifications?limit=3", &token).await;
                statuses.push(page.status());
                let page: Value = page.json().await.unwrap_or_default();
                for item in page["items"].as_array().cloned().unwrap_or_default() {
                    let id = item["id"].as_i64().unwrap();
                    let action = if round % 3 == 0 { "archive" } else { "read" };
                    let path = format!("/api/notifications/{id}/{action}");
                    statuses.push(server.post_json(&path, &token, &json!({})).await.status());
                }
                if round % 5 == 0 {
                    let res = server
                        .post_json("/api/notifications/read-all", &token, &json!({}))
                        .await;
                    statuses.push(res.status());
                }
            }
            statuses
        }));
    }

    let broadcast_failures = broadcaster.await.unwrap();
    assert!(broadcast_failures.is_empty(), "{broadcast_failures:?}");
    let mut requests = 0;
    for reader in readers {
        let statuses = reader.await.unwrap();
        requests += statuses.len();
        let failed: Vec<_> = statuses.iter().filter(|s| s.is_server_error()).collect();
        assert!(
            failed.is_empty(),
            "{} of {} failed: {failed:?}",
            failed.len(),
            statuses.len()
        );
    }
    assert!(
        requests > 50,
        "the readers ran alongside ({requests} requests)"
    );
}

// ---- point 4: exports -----------------------------------------------------

async fn start_export(server: &TestServer, token: &str) -> (StatusCode, Value) {
    status_and_json(server.post_json("/api/exports", token, &json!({})).await).await
}

/// Reads the stream until the export `task_id` reports `done`.
async fn wait_export_done(stream: &mut SseReader, task_id: &str) {
    loop {
        let event = stream.next_non_ping().await.expect("stream open");
        let data = event.json();
        if event.event == "progress" && data["task_id"] == task_id && data["status"] == "done" {
            return;
        }
    }
}

#[tokio::test]
async fn a_user_can_run_only_a_few_exports_at_once() {
    let server = TestServer::start_with(&[("HERALD_EXPORT_STEP_MS", "100")]).await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;

    let (status, first) = start_export(&server, &alice).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(start_export(&server, &alice).await.0, StatusCode::ACCEPTED);
    let (status, refused) = start_export(&server, &alice).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["success"], false);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("exports running"),
        "{refused}"
    );
    assert_eq!(
        start_export(&server, &bob).await.0,
        StatusCode::ACCEPTED,
        "per user"
    );

    wait_export_done(&mut stream, first["data"]["task_id"].as_str().unwrap()).await;
    assert_eq!(
        start_export(&server, &alice).await.0,
        StatusCode::ACCEPTED,
        "a place was freed"
    );
}

#[tokio::test]
async fn a_retried_export_start_does_not_start_a_second_one() {
    let server = TestServer::start_with(&[("HERALD_EXPORT_STEP_MS", "1000")]).await;
    let alice = server.token("alice").await;
    let first =
        status_and_json(post_keyed(&server, "/api/exports", &alice, "e-1", &json!({})).await).await;
    let retry =
        status_and_json(post_keyed(&server, "/api/exports", &alice, "e-1", &json!({})).await).await;
    assert_eq!(first.0, StatusCode::ACCEPTED);
    assert_eq!(retry, first);
    // Only one place is taken: a second (unkeyed) export still fits.
    assert_eq!(start_export(&server, &alice).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn old_export_files_are_deleted_and_recent_ones_kept() {
    let server = TestServer::start_with(&[
        ("HERALD_EXPORT_STEP_MS", "1"),
        ("HERALD_SESSION_SWEEP_SECS", "1"),
        ("HERALD_EXPORT_RETENTION_HOURS", "24"),
    ])
    .await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (_, started) = start_export(&server, &alice).await;
        let task_id = started["data"]["task_id"].as_str().unwrap().to_string();
        wait_export_done(&mut stream, &task_id).await;
        tasks.push(task_id);
    }
    let alice_id = server.user_id(&alice).await;
    let dir = server.state.config.data_dir().join("exports");
    let file = |task: &str| dir.join(format!("{alice_id}-{task}.csv"));
    let (old, recent) = (file(&tasks[0]), file(&tasks[1]));
    assert!(old.exists() && recent.exists());
    let two_days_ago = SystemTime::now() - Duration::from_secs(48 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();

    eventually("the old export to be deleted", async || !old.exists()).await;
    let link = |task: &str| format!("/api/exports/{task}");
    assert_eq!(
        server.get(&link(&tasks[0]), &alice).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get(&link(&tasks[1]), &alice).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn export_notifications_stay_out_of_the_admins_history() {
    let server = TestServer::start_with(&[("HERALD_EXPORT_STEP_MS", "1")]).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    server.broadcast(&admin, "from the admin").await;
    let (_, started) = start_export(&server, &alice).await;
    wait_export_done(&mut stream, started["data"]["task_id"].as_str().unwrap()).await;
    // The "ready" notification reached alice...
    loop {
        let event = stream.next_non_ping().await.unwrap();
        if event.event == "notification" && event.json()["title"] == "Your export is ready" {
            break;
        }
    }
    // ...and is not something the admin sent.
    assert_eq!(history_titles(&server, &admin).await, ["from the admin"]);
}

// ---- point 8: private files ----------------------------------------------

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn secret_database_and_exports_are_private_at_every_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let loosen = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // What an older Herald (or a careless copy) left behind, world-readable.
    let secret = data.join("jwt-secret");
    std::fs::write(&secret, "ab".repeat(32)).unwrap();
    loosen(&secret, 0o644);
    let db = data.join("herald.db");
    std::fs::write(&db, b"").unwrap();
    loosen(&db, 0o644);
    let exports = data.join("exports");
    std::fs::create_dir(&exports).unwrap();
    loosen(&exports, 0o755);
    let old_export = exports.join("2-0123456789abcdef.csv");
    std::fs::write(&old_export, "id\n").unwrap();
    loosen(&old_export, 0o644);

    let db_url = format!("sqlite://{}", db.display());
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(db_url.clone()),
        _ => None,
    })
    .unwrap();
    let options = LeptosOptions::builder()
        .output_name("herald")
        .site_root("target/site")
        .build();
    let state = AppState::new(config, options).await.expect("start");

    for (path, expected) in [
        (secret.clone(), 0o600),
        (db.clone(), 0o600),
        (data.join("herald.db-wal"), 0o600),
        (data.join("herald.db-shm"), 0o600),
        (exports.clone(), 0o700),
        (old_export.clone(), 0o600),
    ] {
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "ab".repeat(32),
        "kept, not replaced"
    );
    state.pool.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn files_herald_creates_are_private() {
    let server = TestServer::start_with(&[("HERALD_EXPORT_STEP_MS", "1")]).await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    let (_, started) = start_export(&server, &alice).await;
    wait_export_done(&mut stream, started["data"]["task_id"].as_str().unwrap()).await;

    let data = server.state.config.data_dir();
    let exports = data.join("exports");
    assert_eq!(mode(&exports), 0o700);
    for file in std::fs::read_dir(&exports).unwrap() {
        assert_eq!(mode(&file.unwrap().path()), 0o600);
    }
    for name in ["herald.db", "herald.db-wal", "herald.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}
