//! Service API keys (issue 17): scopes, never a user session, revocation at
//! once (on every instance of a cluster), the CLI, the audit log, a rate
//! limit per key, `last_used_at` without a write per request, bad keys that
//! cost no writes, and keys that never reach a log line.

use std::{
    io::Read,
    process::{Command, Stdio},
};

use herald::{
    model::Scope,
    server::{store::Pool, usecases::keys},
};
use leptos::server_fn::ServerFn;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::harness::TestServer;

/// A key made the way the CLI makes one; returns the key.
pub async fn key(server: &TestServer, name: &str, scopes: &[Scope]) -> String {
    keys::create(&server.state.pool, keys::CLI, name, scopes)
        .await
        .expect("create a key")
        .key
}

fn announcement(title: &str) -> Value {
    json!({ "event": "notification", "data": { "title": title, "body": "b" } })
}

/// The status and `error` of a refusal.
pub async fn refusal(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    (status, body["error"].as_str().unwrap().to_string())
}

async fn assert_refused_for_lack_of(res: reqwest::Response, scope: &str) {
    let (status, error) = refusal(res).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert!(error.contains(&format!("\"{scope}\" scope")), "{error}");
}

/// One value from the server's database, whichever backend it runs on.
async fn scalar<T>(server: &TestServer, sql: &str) -> T
where
    T: Send + Unpin,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    match &server.state.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

pub async fn one_i64(server: &TestServer, sql: &str) -> i64 {
    scalar(server, sql).await
}

#[tokio::test]
async fn each_scope_opens_its_routes_and_no_other() {
    let server = TestServer::start().await;
    let publish = key(&server, "publisher", &[Scope::Publish]).await;
    let read = key(&server, "reader", &[Scope::Read]).await;
    let users = key(&server, "provisioner", &[Scope::Users]).await;
    let alice_id = server.user_id(&server.token("alice").await).await;

    // publish: broadcast, send to a user, retract.
    let sent = server
        .post_json("/api/sse/broadcast", &publish, &announcement("from a key"))
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let id = sent.json::<Value>().await.unwrap()["data"]["id"]
        .as_i64()
        .unwrap();
    let to_alice = json!({ "user_id": alice_id, "data": { "title": "to alice" } });
    let res = server
        .post_json("/api/sse/send-to-user", &publish, &to_alice)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .delete(&format!("/api/announcements/{id}"), &publish)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for path in ["/api/sse/stats", "/api/audit", "/api/announcements"] {
        assert_refused_for_lack_of(server.get(path, &publish).await, "read").await;
    }
    let new_user = json!({ "username": "zed", "role": "user" });
    let res = server.post_json("/api/users", &publish, &new_user).await;
    assert_refused_for_lack_of(res, "users").await;

    // read: stats, announcements, audit.
    for path in ["/api/sse/stats", "/api/audit", "/api/announcements"] {
        let body = server.get_json(path, &read).await;
        assert_eq!(body["success"], true, "{path}");
    }
    let res = server
        .post_json("/api/sse/broadcast", &read, &announcement("x"))
        .await;
    assert_refused_for_lack_of(res, "publish").await;
    let res = server.delete("/api/announcements/1", &read).await;
    assert_refused_for_lack_of(res, "publish").await;
    assert_refused_for_lack_of(server.get("/api/users/alice", &read).await, "users").await;

    // users: provisioning.
    let res = server.post_json("/api/users", &users, &new_user).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        server.get("/api/users/zed", &users).await.status(),
        StatusCode::OK
    );
    let res = server
        .post_json("/api/sse/send-to-user", &users, &to_alice)
        .await;
    assert_refused_for_lack_of(res, "publish").await;
    assert_refused_for_lack_of(server.get("/api/sse/stats", &users).await, "read").await;
}

#[tokio::test]
async fn a_key_is_never_a_user_session() {
    let server = TestServer::start().await;
    let all = key(&server, "everything", &Scope::ALL).await;
    for path in ["/api/me", "/api/notifications"] {
        let (status, error) = refusal(server.get(path, &all).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(error.contains("API key"), "{path}: {error}");
    }
    let res = server
        .post_json("/api/notifications/read-all", &all, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = server
        .http
        .post(server.url("/api/exports"))
        .bearer_auth(&all)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = server
        .http
        .post(server.url("/api/auth/logout"))
        .bearer_auth(&all)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The stream, on a connection of its own (the direct path) and after
    // another request on the same connection (the router's).
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let res = fresh
        .get(server.url("/sse/stream"))
        .bearer_auth(&all)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.get("/healthz", &all).await.status(), StatusCode::OK);
    let res = server.get("/sse/stream", &all).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Pages treat it as signed out; server functions refuse it.
    let res = server.get("/admin", &all).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()[header::LOCATION], "/login");
    for path in [
        herald::api::admin::AdminConsole::PATH,
        herald::api::admin::ListKeys::PATH,
        herald::api::inbox::MarkAllRead::PATH,
    ] {
        let res = server
            .http
            .post(server.url(path))
            .bearer_auth(&all)
            .header(header::ACCEPT, "application/json")
            .form(&[] as &[(&str, &str)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn a_revoked_unknown_or_forged_key_gets_401_at_once() {
    let server = TestServer::start().await;
    let good = key(&server, "ci", &[Scope::Read]).await;
    assert_eq!(
        server.get("/api/sse/stats", &good).await.status(),
        StatusCode::OK
    );

    // Same public id, another secret; a made-up id; malformed ones.
    let mut forged = good.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let unknown = format!("hrld_000000000000_{}", "ab".repeat(32));
    for bad in [
        forged.as_str(),
        &unknown,
        "hrld_",
        "hrld_x_y",
        &good[..good.len() - 1],
    ] {
        let (status, _) = refusal(server.get("/api/sse/stats", bad).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
    }

    let admin = server.token("admin").await;
    keys::revoke(&server.state.pool, keys::CLI, "ci")
        .await
        .unwrap();
    for path in ["/api/sse/stats", "/api/audit"] {
        let (status, _) = refusal(server.get(path, &good).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let res = server
        .post_json(
            "/api/users",
            &good,
            &json!({"username": "q", "role": "user"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The admin's own session is untouched; the name can be used again.
    assert_eq!(
        server.get("/api/sse/stats", &admin).await.status(),
        StatusCode::OK
    );
    let again = key(&server, "ci", &[Scope::Read]).await;
    assert_eq!(
        server.get("/api/sse/stats", &again).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.get("/api/sse/stats", &good).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Two instances on one PostgreSQL database: a key revoked through one is
/// refused by the other on its very next request.
#[tokio::test]
async fn a_key_revoked_on_one_instance_is_refused_by_another_at_once() {
    let Some(url) = crate::pg::fresh_database().await else {
        return;
    };
    let (a, b) = tokio::join!(
        TestServer::start_on(&url, &[]),
        TestServer::start_on(&url, &[])
    );
    let read = key(&a, "shared", &[Scope::Read]).await;
    assert_eq!(
        b.get("/api/sse/stats", &read).await.status(),
        StatusCode::OK
    );
    keys::revoke(&a.state.pool, keys::CLI, "shared")
        .await
        .unwrap();
    assert_eq!(
        b.get("/api/sse/stats", &read).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        a.get("/api/sse/stats", &read).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

fn herald(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("DATABASE_URL", &server.state.config.database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run herald");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn the_cli_adds_lists_and_revokes_keys_and_shows_a_key_only_once() {
    let server = TestServer::start().await;
    let (ok, out, err) = herald(
        &server,
        &[
            "key",
            "add",
            "deploy-bot",
            "--scope",
            "publish",
            "--scope",
            "read",
        ],
    );
    assert!(ok, "{out}{err}");
    let key = out.trim().to_string();
    assert_eq!(out.lines().count(), 1, "the key alone on stdout: {out}");
    assert!(key.starts_with("hrld_"), "{key}");
    assert!(err.contains("only") && err.contains("once"), "{err}");
    assert_eq!(
        server.get("/api/sse/stats", &key).await.status(),
        StatusCode::OK
    );
    let res = server
        .post_json("/api/sse/broadcast", &key, &announcement("deployed"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let (ok, list, err) = herald(&server, &["key", "list"]);
    assert!(ok, "{err}");
    let line = list
        .lines()
        .find(|l| l.starts_with("deploy-bot"))
        .expect(&list);
    assert!(
        line.contains("publish,read") && line.contains("live"),
        "{line}"
    );
    assert!(
        !line.contains("never"),
        "used, so its last use is shown: {line}"
    );
    let secret = key.rsplit('_').next().unwrap();
    let hash: String = scalar(&server, "SELECT secret_hash FROM api_keys").await;
    for shown in [&list, &err] {
        assert!(!shown.contains(secret) && !shown.contains(&hash), "{shown}");
    }

    let (ok, out, err) = herald(&server, &["key", "add", "deploy-bot", "--scope", "read"]);
    assert!(
        !ok && err.contains("exists"),
        "one live key per name: {out}{err}"
    );
    let (ok, out, err) = herald(&server, &["key", "add", "nothing"]);
    assert!(!ok, "a key needs a scope: {out}{err}");
    let (ok, out, err) = herald(&server, &["key", "add", "odd", "--scope", "admin"]);
    assert!(!ok, "unknown scope: {out}{err}");

    let (ok, out, err) = herald(&server, &["key", "revoke", "deploy-bot"]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        server.get("/api/sse/stats", &key).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, list, _) = herald(&server, &["key", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("deploy-bot") && l.contains("revoked")),
        "{list}"
    );
    let (ok, _, err) = herald(&server, &["key", "revoke", "deploy-bot"]);
    assert!(!ok && err.contains("not found"), "{err}");
}

#[tokio::test]
async fn the_audit_log_names_the_key() {
    let server = TestServer::start().await;
    let publish = key(&server, "billing", &[Scope::Publish, Scope::Users]).await;
    let res = server
        .post_json("/api/sse/broadcast", &publish, &announcement("invoice due"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .post_json(
            "/api/users",
            &publish,
            &json!({"username": "yan", "role": "user"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = server.token("admin").await;
    let audit = server.get_json("/api/audit", &admin).await;
    let rows: Vec<(&str, &str)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &rows[..3],
        [
            ("key:billing", "user.created"),
            ("key:billing", "announcement.sent"),
            ("cli", "key.created")
        ],
        "{audit}"
    );
    // The history lists it as the key's, for the admin and for a `read` key.
    let reader = key(&server, "dashboard", &[Scope::Read]).await;
    for token in [&admin, &reader] {
        let history = server.get_json("/api/announcements", token).await;
        assert_eq!(history["data"][0]["title"], "invoice due", "{history}");
        assert_eq!(history["data"][0]["sender"], "key:billing", "{history}");
    }
}

#[tokio::test]
async fn each_key_has_its_own_rate_limit() {
    let server = TestServer::start_with(&[("HERALD_PUBLISH_PER_MINUTE", "3")]).await;
    let first = key(&server, "noisy", &[Scope::Publish]).await;
    let second = key(&server, "quiet", &[Scope::Publish]).await;
    for n in 0..3 {
        let res = server
            .post_json(
                "/api/sse/broadcast",
                &first,
                &announcement(&format!("n{n}")),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = server
        .post_json("/api/sse/broadcast", &first, &announcement("one too many"))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = server
        .post_json("/api/sse/broadcast", &second, &announcement("other key"))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another key has its own allowance"
    );
    let admin = server.token("admin").await;
    let res = server
        .post_json("/api/sse/broadcast", &admin, &announcement("admin"))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "and so has the admin");
}

#[tokio::test]
async fn last_use_is_written_once_not_per_request_and_bad_keys_write_nothing() {
    let server = TestServer::start().await;
    let read = key(&server, "poller", &[Scope::Read]).await;
    let last_used = "SELECT COALESCE(MAX(last_used_at), 0) FROM api_keys";
    assert_eq!(one_i64(&server, last_used).await, 0);
    assert_eq!(
        server.get("/api/sse/stats", &read).await.status(),
        StatusCode::OK
    );
    let first = one_i64(&server, last_used).await;
    assert!(first > 0, "the first use is recorded");

    let audit_rows = "SELECT COUNT(*) FROM audit_log";
    let audited = one_i64(&server, audit_rows).await;
    let mut watcher = None;
    let changes_before = sqlite_writes(&server, &mut watcher).await;
    for _ in 0..50 {
        assert_eq!(
            server.get("/api/sse/stats", &read).await.status(),
            StatusCode::OK
        );
    }
    // A thousand bad keys: well formed but unknown, then malformed.
    for n in 0..1000 {
        let bad = if n % 2 == 0 {
            format!("hrld_{n:012x}_{}", "cd".repeat(32))
        } else {
            format!("hrld_{n}")
        };
        let res = server.get("/api/sse/stats", &bad).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        one_i64(&server, last_used).await,
        first,
        "no write per request"
    );
    assert_eq!(one_i64(&server, audit_rows).await, audited);
    assert_eq!(
        sqlite_writes(&server, &mut watcher).await,
        changes_before,
        "nothing written at all"
    );
}

/// Commits by anyone since `conn` last asked (SQLite's `data_version`, read
/// on a connection of the test's own that never writes); 0 on PostgreSQL.
async fn sqlite_writes(server: &TestServer, conn: &mut Option<sqlx::SqliteConnection>) -> i64 {
    use sqlx::Connection;
    if server.state.pool.as_sqlite().is_none() {
        return 0;
    }
    if conn.is_none() {
        let url = &server.state.config.database_url;
        *conn = Some(sqlx::SqliteConnection::connect(url).await.unwrap());
    }
    sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn.as_mut().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_never_reaches_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/herald.db", dir.path().display());
    let log_path = dir.path().join("herald.log");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("DATABASE_URL", &db)
            .env("HERALD_DEMO", "1")
            .env("HERALD_JWT_SECRET", "test-secret-test-secret-test-secret!")
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    };
    let added = run(&[
        "key", "add", "logged", "--scope", "publish", "--scope", "read",
    ]);
    assert!(added.status.success());
    let key = String::from_utf8_lossy(&added.stdout).trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .env("DATABASE_URL", &db)
        .env("HERALD_DEMO", "1")
        .env("HERALD_JWT_SECRET", "test-secret-test-secret-test-secret!")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    crate::harness::eventually("the server is up", async || {
        http.get(format!("{base}/healthz")).send().await.is_ok()
    })
    .await;
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut forged = key.clone();
    forged.replace_range(key.len() - 4.., "0000");
    for bearer in [key.as_str(), forged.as_str()] {
        for path in [
            "/api/sse/stats",
            "/api/me",
            "/api/users/alice",
            "/sse/stream",
            "/admin",
        ] {
            fresh
                .get(format!("{base}{path}"))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap();
        }
        let res = http
            .post(format!("{base}/api/sse/broadcast"))
            .bearer_auth(bearer)
            .json(&announcement("logged?"))
            .send()
            .await
            .unwrap();
        let _ = res.status();
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    std::fs::File::open(&log_path)
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let log = log + &String::from_utf8_lossy(&added.stderr);
    assert!(
        log.contains("/api/sse/stats"),
        "the capture caught the requests:\n{log}"
    );
    let secret = key.rsplit('_').next().unwrap();
    let forged_secret = forged.rsplit('_').next().unwrap();
    for (what, needle) in [("key", secret), ("forged key", forged_secret)] {
        // Even a piece of it: the first half of the secret.
        let piece = &needle[..needle.len() / 2];
        assert!(!log.contains(piece), "the {what} reached the log");
    }
}

/// The console's key functions: admins only (checked on the server), and
/// the list never carries a key.
#[tokio::test]
async fn only_an_admin_manages_keys_in_the_console() {
    use herald::api::admin::{CreateKey, ListKeys, RevokeKey};
    let server = TestServer::start().await;
    let call = |path: &'static str, cookie: String, form: Vec<(&'static str, &'static str)>| {
        server
            .http
            .post(server.url(path))
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, &server.base)
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .form(&form)
            .send()
    };
    let alice = server.cookie("alice").await;
    let form = vec![("name", "sneaky"), ("scopes", "publish,read,users")];
    for (path, form) in [
        (CreateKey::PATH, form.clone()),
        (ListKeys::PATH, vec![]),
        (RevokeKey::PATH, vec![("name", "sneaky")]),
    ] {
        let res = call(path, alice.clone(), form).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(one_i64(&server, "SELECT COUNT(*) FROM api_keys").await, 0);

    let admin = server.cookie("admin").await;
    let created: Value = call(CreateKey::PATH, admin.clone(), form)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    assert_eq!(
        server.get("/api/sse/stats", &key).await.status(),
        StatusCode::OK
    );
    let listed = call(ListKeys::PATH, admin.clone(), vec![])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains("sneaky"), "{listed}");
    assert!(
        !listed.contains(key.rsplit('_').next().unwrap()),
        "{listed}"
    );
    let res = call(RevokeKey::PATH, admin, vec![("name", "sneaky")])
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        server.get("/api/sse/stats", &key).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
