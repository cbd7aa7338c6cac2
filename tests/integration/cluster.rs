//! Several instances on one PostgreSQL database (issue 10): every instance
//! follows the shared log, so what is published on one reaches the streams
//! of all, in log order, exactly once; reads, revocations and schedules
//! hold across instances. The instances are in-process servers sharing a
//! fresh database of the throwaway cluster (`pg.rs`).

use std::collections::BTreeMap;

use herald::server::store::Pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{SseEvent, SseReader, TestServer};

/// `n` instances started together on one fresh database (migrations and
/// demo accounts race, as three replicas of a deployment would).
async fn cluster(extra: &[(&str, &str)]) -> Option<[TestServer; 3]> {
    let url = crate::pg::fresh_database().await?;
    let (a, b, c) = tokio::join!(
        TestServer::start_on(&url, extra),
        TestServer::start_on(&url, extra),
        TestServer::start_on(&url, extra),
    );
    Some([a, b, c])
}

async fn query_i64s(server: &TestServer, sql: &str) -> Vec<i64> {
    let Pool::Postgres(pool) = &server.state.pool else {
        panic!("a cluster runs on PostgreSQL");
    };
    sqlx::query_as::<_, (i64,)>(sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(n,)| n)
        .collect()
}

/// The next `n` stored notifications on a stream.
async fn notifications(stream: &mut SseReader, n: usize) -> Vec<SseEvent> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let event = stream.next_non_ping().await.expect("stream open");
        if event.event == "notification" {
            out.push(event);
        }
    }
    out
}

fn position(event: &SseEvent) -> i64 {
    event
        .id
        .as_deref()
        .expect("id:")
        .parse()
        .expect("integer id")
}

#[tokio::test]
async fn concurrent_publishers_on_three_instances_reach_every_stream_as_the_log_holds_it() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let alice = servers[0].token("alice").await;
    let alice_id = servers[0].user_id(&alice).await;
    let admin = servers[1].token("admin").await;
    let mut streams = Vec::new();
    for server in &servers {
        let (stream, connected) = server.open_stream(&alice, "").await;
        assert_eq!(connected.json()["unread"], 0);
        streams.push(stream);
    }

    const EACH: usize = 20;
    let publishers: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            let http = server.http.clone();
            let base = server.base.clone();
            let admin = admin.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    let title = format!("i{i}n{n}");
                    let (path, body) = if n % 2 == 0 {
                        ("/api/sse/broadcast", json!({ "data": { "title": title } }))
                    } else {
                        (
                            "/api/sse/send-to-user",
                            json!({ "user_id": alice_id, "data": { "title": title } }),
                        )
                    };
                    let res = http
                        .post(format!("{base}{path}"))
                        .bearer_auth(&admin)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }

    // What the log holds for alice, in its order: every stream must show
    // exactly that, whichever instance it is on.
    let expected = query_i64s(
        &servers[2],
        &format!(
            "SELECT position FROM events WHERE kind = 'notification'
             AND channel IN ('all', 'user:{alice_id}') ORDER BY position"
        ),
    )
    .await;
    assert_eq!(expected.len(), 3 * EACH);
    for (i, stream) in streams.iter_mut().enumerate() {
        let got = notifications(stream, expected.len()).await;
        let positions: Vec<i64> = got.iter().map(position).collect();
        assert_eq!(positions, expected, "alice's stream on instance {i}");
        let counts: Vec<i64> = got
            .iter()
            .map(|e| e.json()["unread"].as_i64().unwrap())
            .collect();
        let climbing: Vec<i64> = (1..=expected.len() as i64).collect();
        assert_eq!(counts, climbing, "instance {i}: exact counts, in order");
        let mut last_off: BTreeMap<String, i64> = BTreeMap::new();
        for e in &got {
            let data = e.json();
            let ch = data["ch"].as_str().unwrap().to_string();
            let off = data["off"].as_i64().unwrap();
            let previous = last_off.insert(ch.clone(), off).unwrap_or(0);
            assert_eq!(off, previous + 1, "instance {i}: channel {ch} gapless");
        }
    }
}

#[tokio::test]
async fn a_read_on_one_instance_reaches_the_others_with_the_exact_count() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let admin = servers[0].token("admin").await;
    let alice = servers[0].token("alice").await;
    let (mut on_b, _) = servers[1].open_stream(&alice, "").await;
    let (mut on_c, _) = servers[2].open_stream(&alice, "").await;
    for n in 0..3 {
        servers[0].broadcast(&admin, &format!("b{n}")).await;
    }
    let seen = notifications(&mut on_b, 3).await;
    notifications(&mut on_c, 3).await;
    let id = seen[0].json()["id"].as_i64().unwrap();

    let res = servers[0]
        .post_json(&format!("/api/notifications/{id}/read"), &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for stream in [&mut on_b, &mut on_c] {
        let read = stream.next_non_ping().await.unwrap();
        assert_eq!(read.event, "notification.read");
        assert_eq!(read.json(), json!({ "ids": [id], "unread": 2 }));
    }
    // The counters on the other instances took the read's count: the next
    // broadcast counts from it.
    servers[2].broadcast(&admin, "after the read").await;
    for stream in [&mut on_b, &mut on_c] {
        let next = notifications(stream, 1).await.remove(0);
        assert_eq!(next.json()["unread"], 3);
    }
    let res = servers[1]
        .post_json("/api/notifications/read-all", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for stream in [&mut on_b, &mut on_c] {
        let read = stream.next_non_ping().await.unwrap();
        assert_eq!(read.json()["unread"], 0);
    }
}

#[tokio::test]
async fn a_logout_on_one_instance_closes_that_sessions_streams_on_the_others() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let alice = servers[0].token("alice").await;
    let bob = servers[0].token("bob").await;
    let (mut alice_on_b, _) = servers[1].open_stream(&alice, "").await;
    let (mut bob_on_c, _) = servers[2].open_stream(&bob, "").await;
    let res = servers[0].logout(&alice).await;
    assert!(res.status().is_success());
    // The other instances' session sweep (every second on PostgreSQL).
    alice_on_b.expect_end().await;
    let admin = servers[0].token("admin").await;
    servers[0].broadcast(&admin, "bob still here").await;
    let got = notifications(&mut bob_on_c, 1).await;
    assert_eq!(got[0].json()["title"], "bob still here");
}

#[tokio::test]
async fn each_scheduled_announcement_fires_once_across_instances() {
    let Some(servers) = cluster(&[("HERALD_SCHEDULER_MS", "20")]).await else {
        return;
    };
    let admin = servers[0].token("admin").await;
    let alice = servers[0].token("alice").await;
    let (mut stream, _) = servers[1].open_stream(&alice, "").await;
    let send_at = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(800);
    let send_at = send_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for n in 0..5 {
        let res = servers[n % 3]
            .post_json(
                "/api/sse/broadcast",
                &admin,
                &json!({ "data": { "title": format!("s{n}") }, "send_at": send_at }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["scheduled"], true);
    }
    let got = notifications(&mut stream, 5).await;
    let mut titles: Vec<String> = got
        .iter()
        .map(|e| e.json()["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    assert_eq!(titles, ["s0", "s1", "s2", "s3", "s4"]);
    // Three schedulers raced for each; the log holds each once.
    let entries = query_i64s(
        &servers[0],
        "SELECT COUNT(*) FROM events WHERE kind = 'notification' GROUP BY announcement_id",
    )
    .await;
    assert_eq!(entries, [1, 1, 1, 1, 1]);
}

#[tokio::test]
async fn a_terminated_listener_connection_loses_nothing() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let admin = servers[0].token("admin").await;
    let alice = servers[0].token("alice").await;
    let (mut stream, _) = servers[1].open_stream(&alice, "").await;
    servers[0].broadcast(&admin, "before").await;
    notifications(&mut stream, 1).await;
    // Every follower's LISTEN connection, dropped by the server.
    let killed = query_i64s(
        &servers[0],
        "SELECT pg_terminate_backend(pid)::int::int8 FROM pg_stat_activity
         WHERE query ILIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    assert_eq!(killed.len(), 3, "one listener per instance");
    for n in 0..5 {
        servers[n % 3]
            .broadcast(&admin, &format!("after {n}"))
            .await;
    }
    let got = notifications(&mut stream, 5).await;
    let titles: Vec<String> = got
        .iter()
        .map(|e| e.json()["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        titles,
        ["after 0", "after 1", "after 2", "after 3", "after 4"]
    );
}

/// The database goes away (`-m fast`: sessions told; `-m immediate`: a
/// crash) and comes back: publishes during the outage get a clear 503, the
/// open streams stay open, and afterwards the log reaches them in order.
#[tokio::test]
async fn a_database_restart_is_a_503_meanwhile_and_loses_nothing() {
    let Some(pg) = crate::pg::PgCluster::start_private() else {
        return;
    };
    let url = pg.database().await;
    // The throwaway clusters acknowledge commits before their WAL is written
    // (synchronous_commit=off, for speed); an immediate stop would then lose
    // acknowledged commits, which a real database does not. Durable here.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg.url("postgres"))
        .await
        .unwrap();
    let database = url.rsplit('/').next().unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE {database} SET synchronous_commit = on"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let a = TestServer::start_on(&url, &[]).await;
    let b = TestServer::start_on(&url, &[]).await;
    let admin = a.token("admin").await;
    let alice = a.token("alice").await;
    let (mut stream, _) = b.open_stream(&alice, "").await;
    let mut sent = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = format!("before {mode}");
        a.broadcast(&admin, &before).await;
        sent.push(before);
        pg.stop(mode);
        let res = a
            .post_json(
                "/api/sse/broadcast",
                &admin,
                &json!({ "data": { "title": "during the outage" } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{mode}");
        pg.restart();
        let after = format!("after {mode}");
        // The pool reconnects on its own; the first request may still meet a
        // connection the restart broke, and says so with a 503 too.
        let mut status = StatusCode::SERVICE_UNAVAILABLE;
        for _ in 0..20 {
            let res = a
                .post_json(
                    "/api/sse/broadcast",
                    &admin,
                    &json!({ "data": { "title": after } }),
                )
                .await;
            status = res.status();
            if status != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
        }
        assert_eq!(status, StatusCode::OK, "{mode}: publishing again");
        sent.push(after);
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next_event());
        match next.await {
            Ok(Some(e)) if e.event == "notification" => got.push(e),
            Ok(Some(e)) if e.event == "ping" => {}
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    let titles: Vec<String> = got
        .iter()
        .map(|e| e.json()["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles, sent, "in order, none lost, none from the outage");
    let positions: Vec<i64> = got.iter().map(position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[tokio::test]
async fn stats_count_the_streams_of_every_instance() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let admin = servers[0].token("admin").await;
    let alice = servers[0].token("alice").await;
    let bob = servers[0].token("bob").await;
    let alice_id = servers[0].user_id(&alice).await.to_string();
    let bob_id = servers[0].user_id(&bob).await.to_string();
    let (_a1, _) = servers[1].open_stream(&alice, "").await;
    let (a2, _) = servers[2].open_stream(&alice, "").await;
    let (_b, _) = servers[0].open_stream(&bob, "").await;
    let stats = || async {
        let data = servers[0].get_json("/api/sse/stats", &admin).await["data"].clone();
        (
            data["total_clients"].as_i64().unwrap(),
            data["user_clients"][&alice_id].as_i64().unwrap_or(0),
            data["user_clients"][&bob_id].as_i64().unwrap_or(0),
        )
    };
    // Other instances' numbers arrive with their next heartbeat (a second).
    crate::harness::eventually("every instance's streams counted", async || {
        stats().await == (3, 2, 1)
    })
    .await;
    drop(a2);
    crate::harness::eventually("a closed stream leaves the count", async || {
        stats().await == (2, 1, 1)
    })
    .await;
}

/// Kills a child process on drop (a test that fails must not leave it).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One instance is a real process, killed with SIGKILL while it publishes:
/// whatever it acknowledged is in the log and reaches the other instance's
/// streams, nothing is half-done (an announcement without its entry or its
/// audit row), and its stream's client resumes on the survivor with
/// `Last-Event-ID`, missing nothing.
#[tokio::test]
async fn an_instance_killed_mid_publish_leaves_nothing_half_done() {
    let Some(url) = crate::pg::fresh_database().await else {
        return;
    };
    let survivor = TestServer::start_on(&url, &[]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut doomed = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .env("DATABASE_URL", &url)
            .env("HERALD_JWT_SECRET", "test-secret-test-secret-test-secret!")
            .env("HERALD_DEMO", "1")
            .env("HERALD_DEMO_SEED", "0")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the herald binary"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    crate::harness::eventually("the second instance is up", async || {
        http.get(format!("{base}/healthz")).send().await.is_ok()
    })
    .await;
    let admin = survivor.token("admin").await;
    let alice = survivor.token("alice").await;
    let res = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
        .get(format!("{base}/sse/stream"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut on_doomed = SseReader::new(res);
    assert_eq!(on_doomed.next_event().await.unwrap().event, "connected");
    let (mut on_survivor, _) = survivor.open_stream(&alice, "").await;

    // Publishing through the doomed instance until it dies.
    let publisher = {
        let (http, base, admin) = (http.clone(), base.clone(), admin.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let title = format!("k{n}");
                let sent = http
                    .post(format!("{base}/api/sse/broadcast"))
                    .bearer_auth(&admin)
                    .json(&json!({ "data": { "title": title } }))
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == StatusCode::OK => acknowledged.push(title),
                    _ => break,
                }
            }
            acknowledged
        })
    };
    let seen_before_kill = notifications(&mut on_doomed, 10).await;
    doomed.0.kill().expect("SIGKILL");
    doomed.0.wait().ok();
    let acknowledged = publisher.await.unwrap();
    survivor.broadcast(&admin, "after the kill").await;

    let Pool::Postgres(pool) = &survivor.state.pool else {
        unreachable!()
    };
    let logged: Vec<(i64, String)> = sqlx::query_as(
        "SELECT e.position, a.title FROM events e JOIN announcements a ON a.id = e.announcement_id
         WHERE e.kind = 'notification' ORDER BY e.position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let titles: Vec<&str> = logged.iter().map(|(_, t)| t.as_str()).collect();
    for title in &acknowledged {
        assert!(
            titles.contains(&title.as_str()),
            "acknowledged {title} is in the log"
        );
    }
    let (half_done,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM announcements a WHERE a.status = 'sent'
         AND (NOT EXISTS (SELECT 1 FROM events e WHERE e.announcement_id = a.id)
              OR NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.detail LIKE '#' || a.id || ' %'))",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        half_done, 0,
        "an announcement without its entry or audit row"
    );

    // The survivor's stream got the whole log, in order.
    let got = notifications(&mut on_survivor, logged.len()).await;
    let got: Vec<String> = got
        .iter()
        .map(|e| e.json()["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, titles);
    // The killed instance's client resumes on the survivor.
    let last_id = seen_before_kill.last().unwrap().id.clone().unwrap();
    let (mut resumed, _) = survivor
        .open_stream_with(&alice, "", &[("Last-Event-ID", &last_id)])
        .await;
    let last: i64 = last_id.parse().unwrap();
    let missed: Vec<&str> = logged
        .iter()
        .filter(|(p, _)| *p > last)
        .map(|(_, t)| t.as_str())
        .collect();
    let replayed = notifications(&mut resumed, missed.len()).await;
    let replayed: Vec<String> = replayed
        .iter()
        .map(|e| e.json()["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(replayed, missed, "resumed elsewhere, nothing missed");
}

/// A database restored from an older backup holds less log than the
/// instances applied: they end every stream, and a client coming back
/// with an id beyond the log gets `resync`, not a silent skip.
#[tokio::test]
async fn a_log_that_goes_back_ends_the_streams_and_resumes_get_resync() {
    let Some(server) = TestServer::start_postgres(&[]).await else {
        return;
    };
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let (mut stream, _) = server.open_stream(&alice, "").await;
    for n in 0..3 {
        server.broadcast(&admin, &format!("b{n}")).await;
    }
    let seen = notifications(&mut stream, 3).await;
    let first = position(&seen[0]);
    // The restore: the last two entries are gone.
    let Pool::Postgres(pool) = &server.state.pool else {
        unreachable!()
    };
    sqlx::query("DELETE FROM events WHERE position > $1")
        .bind(first)
        .execute(pool)
        .await
        .unwrap();
    stream.expect_end().await;
    let last = seen[2].id.clone().unwrap();
    let (mut resumed, _) = server
        .open_stream_with(&alice, "", &[("Last-Event-ID", &last)])
        .await;
    assert_eq!(resumed.next_non_ping().await.unwrap().event, "resync");
}

#[tokio::test]
async fn an_exports_progress_reaches_the_users_streams_on_every_instance() {
    let Some(servers) = cluster(&[("HERALD_EXPORT_STEP_MS", "20")]).await else {
        return;
    };
    let alice = servers[0].token("alice").await;
    let (mut on_c, _) = servers[2].open_stream(&alice, "").await;
    let res = servers[0]
        .post_json("/api/exports", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mut last_progress = 0;
    loop {
        let event = on_c.next_non_ping().await.expect("stream open");
        match event.event.as_str() {
            "progress" => last_progress = event.json()["progress"].as_i64().unwrap(),
            // The end of the task is a durable notification.
            "notification" => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        last_progress > 0,
        "progress from the instance running the export"
    );
}

/// An instance that fell behind the pruning of control entries (paused
/// for longer than they are kept) cannot apply what it missed: it ends its
/// streams, and its clients resume. A fresh instance after the pruning is
/// not behind it.
#[tokio::test]
async fn falling_behind_the_pruned_log_ends_the_streams() {
    let Some(servers) = cluster(&[]).await else {
        return;
    };
    let alice = servers[0].token("alice").await;
    let admin = servers[0].token("admin").await;
    let (mut stream, _) = servers[1].open_stream(&alice, "").await;
    servers[0].broadcast(&admin, "one").await;
    let seen = notifications(&mut stream, 1).await;
    let id = seen[0].json()["id"].as_i64().unwrap();
    // Instance 1 pauses; meanwhile a read is written and, "an hour later",
    // pruned.
    let follower = servers[1]
        .state
        .publisher
        .backplane()
        .follower()
        .unwrap()
        .clone();
    let paused = follower.hold().await;
    let res = servers[0]
        .post_json(&format!("/api/notifications/{id}/read"), &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let pruned = herald::server::store::control::prune(&servers[0].state.pool, i64::MAX)
        .await
        .unwrap();
    assert_eq!(pruned, 1, "the read's control entry");
    drop(paused);
    stream.expect_end().await;
    // The log's head did not go back with the pruning: a fresh instance
    // follows from there.
    let fresh = TestServer::start_on(&servers[0].state.config.database_url, &[]).await;
    let (mut on_fresh, _) = fresh.open_stream(&alice, "").await;
    servers[2].broadcast(&admin, "two").await;
    let got = notifications(&mut on_fresh, 1).await;
    assert_eq!(got[0].json()["title"], "two");
}
