//! The event-log conversion (docs/event-log.md §6) on a database made by
//! the pre-event-log Herald: `tests/fixtures/pre_event_log.sql` (a `.dump`)
//! and what that Herald's API answered about it,
//! `tests/fixtures/pre_event_log.expected.json`, both written once by
//! `scripts/make-pre-event-log-fixture.sh`. Values are compared, not ids:
//! positions replace the old copy ids and seqs.

use std::{path::Path, str::FromStr};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};

use crate::harness::TestServer;

const DUMP: &str = include_str!("../fixtures/pre_event_log.sql");
const EXPECTED: &str = include_str!("../fixtures/pre_event_log.expected.json");

fn expected() -> Value {
    serde_json::from_str(EXPECTED).expect("expected.json")
}

/// Loads the dump into `dir/herald.db` (not yet converted: the migrations
/// run when Herald opens it) and returns its URL.
async fn load_fixture(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("herald.db").display());
    let mut conn = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .connect()
        .await
        .expect("fixture database");
    sqlx::raw_sql(DUMP)
        .execute(&mut conn)
        .await
        .expect("load the dump");
    conn.close().await.unwrap();
    url
}

/// Herald on the fixture, without demo accounts (they would join the channels).
async fn start_on_fixture(dir: &Path) -> TestServer {
    let url = load_fixture(dir).await;
    TestServer::start_with(&[("DATABASE_URL", url.as_str()), ("HERALD_DEMO", "0")]).await
}

async fn login(server: &TestServer, username: &str) -> String {
    let password = expected()["password"].as_str().unwrap().to_string();
    let res = server.login_response(username, &password).await;
    assert_eq!(res.status(), StatusCode::OK, "login as {username}");
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// Every page of the user's inbox, three at a time (as the fixture was read),
/// with the unread count of the first page.
async fn whole_inbox(server: &TestServer, token: &str) -> Value {
    let mut items = Vec::new();
    let mut unread = None;
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(seq) => format!("/api/notifications?limit=3&before={seq}"),
            None => "/api/notifications?limit=3".to_string(),
        };
        let page = server.get_json(&path, token).await;
        unread.get_or_insert_with(|| page["unread"].clone());
        let page_items = page["items"].as_array().unwrap();
        if page_items.is_empty() {
            break;
        }
        for item in page_items {
            items.push(json!({
                "title": item["title"],
                "body": item["body"],
                "severity": item["severity"],
                "link": item.get("link").cloned().unwrap_or(Value::Null),
                "read": item["read"],
            }));
        }
        match page["next_before"].as_i64() {
            Some(seq) => before = Some(seq),
            None => break,
        }
    }
    json!({ "unread": unread.unwrap(), "inbox": items })
}

#[tokio::test]
async fn converted_database_shows_every_inbox_and_funnel_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_on_fixture(dir.path()).await;
    let expected = expected();
    assert!(
        dir.path().join("herald.db.pre-event-log").exists(),
        "backup before converting"
    );

    // The funnel first: the inbox pages below are deliveries, which the
    // fixture's funnel was read before.
    let admin = login(&server, "ada").await;
    let history = server.get_json("/api/announcements", &admin).await;
    let history: Vec<Value> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            json!({
                "title": a["title"], "target": a["target"], "status": a["status"],
                "recipients": a["recipients"], "delivered": a["delivered"], "read": a["read"],
            })
        })
        .collect();
    assert_eq!(Value::Array(history), expected["history"], "admin history");

    for (username, want) in expected["users"].as_object().unwrap() {
        let token = login(&server, username).await;
        let got = whole_inbox(&server, &token).await;
        assert_eq!(got["unread"], want["unread"], "{username}'s unread count");
        assert_eq!(got["inbox"], want["inbox"], "{username}'s inbox");
    }
    for username in expected["deleted_users"].as_array().unwrap() {
        let password = expected["password"].as_str().unwrap();
        let res = server
            .login_response(username.as_str().unwrap(), password)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{username} is gone");
    }
}

#[tokio::test]
async fn an_old_last_event_id_gets_one_resync_then_live_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_on_fixture(dir.path()).await;
    let expected = expected();
    let old_seq = expected["users"]["alice"]["old_last_seq"]
        .as_i64()
        .unwrap()
        .to_string();
    let alice = login(&server, "alice").await;
    let admin = login(&server, "ada").await;

    // Connected, then the resync (an old per-user seq is below the resume
    // floor), then nothing more until something happens.
    let (mut stream, connected) = server
        .open_stream_with(&alice, "", &[("Last-Event-ID", old_seq.as_str())])
        .await;
    assert_eq!(connected.event, "connected");
    let resync = stream.next_non_ping().await.expect("resync");
    assert_eq!(resync.event, "resync", "{resync:?}");

    server.broadcast(&admin, "After the upgrade").await;
    let live = stream.next_non_ping().await.expect("live notification");
    assert_eq!(live.event, "notification", "exactly one resync: {live:?}");
    assert_eq!(live.json()["title"], "After the upgrade");
    let position = live.id.as_deref().expect("id:").parse::<i64>().unwrap();
    assert!(
        position > expected["users"]["alice"]["old_last_seq"].as_i64().unwrap(),
        "new positions lie above every old seq"
    );
}

/// What `store::open` does before the conversion, checked on the store
/// alone: the backup holds the copies, the converted database does not.
#[tokio::test]
async fn open_backs_up_the_copies_then_converts() {
    let dir = tempfile::tempdir().unwrap();
    let url = load_fixture(dir.path()).await;
    let pool = herald::server::store::open(&url).await.expect("open");
    let backup = dir.path().join("herald.db.pre-event-log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "backup mode");
    }

    let copies_in_dump = DUMP.matches("INSERT INTO notifications VALUES").count() as i64;
    let mut old = SqliteConnectOptions::from_str(&format!("sqlite://{}", backup.display()))
        .unwrap()
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let (backed_up,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications")
        .fetch_one(&mut old)
        .await
        .unwrap();
    assert_eq!(backed_up, copies_in_dump);
    old.close().await.unwrap();

    let (tables,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM sqlite_master WHERE name = 'notifications'")
            .fetch_one(pool.as_sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(tables, 0, "copies dropped");
    let (floor,): (i64,) = sqlx::query_as("SELECT value FROM log_meta WHERE key = 'resume_floor'")
        .fetch_one(pool.as_sqlite().unwrap())
        .await
        .unwrap();
    let old_seqs = expected()["users"]
        .as_object()
        .unwrap()
        .values()
        .map(|u| u["old_last_seq"].as_i64().unwrap())
        .max()
        .unwrap();
    assert!(floor > old_seqs, "resume floor {floor} above old seqs");
    let (entries,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(pool.as_sqlite().unwrap())
        .await
        .unwrap();
    assert!(entries > 0);
    pool.close().await;

    // Opening again converts nothing and leaves the backup as it was.
    let before = std::fs::metadata(&backup).unwrap().modified().unwrap();
    let pool = herald::server::store::open(&url).await.expect("reopen");
    pool.close().await;
    assert_eq!(
        std::fs::metadata(&backup).unwrap().modified().unwrap(),
        before
    );
}

#[tokio::test]
async fn a_fresh_database_converts_to_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("herald.db").display());
    let pool = herald::server::store::open(&url).await.expect("open");
    assert!(!dir.path().join("herald.db.pre-event-log").exists());
    let (floor,): (i64,) = sqlx::query_as("SELECT value FROM log_meta WHERE key = 'resume_floor'")
        .fetch_one(pool.as_sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(floor, 1);
    let channels: Vec<(String,)> = sqlx::query_as("SELECT name FROM channels ORDER BY name")
        .fetch_all(pool.as_sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(
        channels,
        [
            ("all".into(),),
            ("role:admin".into(),),
            ("role:user".into(),)
        ]
    );
}
