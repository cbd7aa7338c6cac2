//! Email escalation (docs/escalation.md) against a real SMTP server
//! (`smtp_sink.rs`) through the real client: what stays unread and reached
//! no stream for the delay is emailed once; what was read, reached a
//! stream, is muted (and not critical), or whose category or user turned
//! escalation off is not; a restart, a second instance and a mail server
//! that was down send nothing twice and lose nothing.
//!
//! Negative cases wait for the user's escalation watermark to pass the
//! notification (the task decided), then look at what the sink received.

use std::time::{Duration, Instant};

use herald::server::store::Pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub(crate) use crate::categories::send;
use crate::{
    harness::{eventually, TestServer},
    smtp_sink::{Mail, SmtpSink},
};

/// The default delay in these tests (the floor is lowered to 1 s): three
/// funnel flushes, so a live stream's delivery is recorded well before.
const DELAY: Duration = Duration::from_secs(3);
/// Long enough for a delay, a pass and a send on a busy machine.
const MAIL_DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn settings(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("HERALD_SMTP_URL", sink.url()),
        ("HERALD_SMTP_FROM", "Herald <herald@example.com>".into()),
        ("HERALD_ESCALATE_MIN_SECS", "1".into()),
        ("HERALD_ESCALATE_AFTER_SECS", DELAY.as_secs().to_string()),
        ("HERALD_ESCALATE_TICK_MS", "100".into()),
        ("HERALD_ESCALATE_RETRY_BASE_MS", "200".into()),
        ("HERALD_PUBLIC_URL", "https://herald.example".into()),
    ]
}

pub(crate) fn extra<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn start(sink: &SmtpSink) -> TestServer {
    let settings = settings(sink);
    TestServer::start_with(&extra(&settings)).await
}

/// Creates a user with an address (an admin's provisioning); returns
/// their token and id.
pub(crate) async fn user_with_email(server: &TestServer, admin: &str, name: &str) -> (String, i64) {
    let body = json!({
        "username": name, "role": "user", "password": "password-of-a-user",
        "email": format!("{name}@example.com")
    });
    let res = server.post_json("/api/users", admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{name}");
    let login = server.login_response(name, "password-of-a-user").await;
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let id = server.user_id(&token).await;
    (token, id)
}

/// Sends to everyone.
/// The position of the newest notification in the user's inbox. (Asked
/// of the admin, who has no address: a page counts as delivered.)
pub(crate) async fn newest(server: &TestServer, token: &str) -> i64 {
    let page = server.get_json("/api/notifications", token).await;
    page["items"][0]["id"].as_i64().expect("an item")
}

/// `(up_to, pending, attempts)` of the user's escalation row.
pub(crate) async fn row(server: &TestServer, user_id: i64) -> (i64, bool, i64) {
    let sql = "SELECT up_to, pending IS NOT NULL, attempts FROM escalations WHERE user_id = ";
    let found: (i64, bool, i64) = match &server.state.pool {
        Pool::Sqlite(p) => sqlx::query_as(&format!("{sql}?"))
            .bind(user_id)
            .fetch_one(p)
            .await
            .unwrap(),
        Pool::Postgres(p) => sqlx::query_as(&format!("{sql}$1"))
            .bind(user_id)
            .fetch_one(p)
            .await
            .unwrap(),
    };
    found
}

/// Waits until escalation has decided the user's log through `position`
/// with nothing left to send.
pub(crate) async fn decided(server: &TestServer, user_id: i64, position: i64) {
    eventually(
        &format!("user {user_id} decided through {position}"),
        async || {
            let (up_to, pending, _) = row(server, user_id).await;
            up_to >= position && !pending
        },
    )
    .await;
}

fn mentions(mails: &[Mail], text: &str) -> usize {
    mails.iter().filter(|m| m.data.contains(text)).count()
}

#[tokio::test]
async fn an_offline_user_with_an_address_gets_what_stayed_unread_once_after_the_delay() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let admin = server.token("admin").await;
    let (_erin, _) = user_with_email(&server, &admin, "erin").await;
    let sent_at = Instant::now();
    send(
        &server,
        &admin,
        json!({"title": "Disk almost full", "body": "db-1 at 91%", "link": "/status"}),
    )
    .await;
    let mails = sink
        .wait_until("erin's email", MAIL_DEADLINE, |m| !m.is_empty())
        .await;
    assert!(
        sent_at.elapsed() >= DELAY,
        "emailed after {:?}, before the delay",
        sent_at.elapsed()
    );
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["erin@example.com".to_string()]);
    assert_eq!(mail.from, "herald@example.com");
    assert_eq!(mail.subject(), Some("1 unread notification on Herald"));
    assert!(mail.data.contains("Disk almost full"), "{}", mail.data);
    assert!(mail.data.contains("db-1 at 91%"), "{}", mail.data);
    assert!(
        mail.data.contains("https://herald.example/status"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("https://herald.example/"),
        "the inbox link"
    );
    assert!(!mail.data.to_lowercase().contains("token"), "{}", mail.data);

    // Many passes later, a second notification: a second email with it
    // alone; the first is never sent again.
    send(&server, &admin, json!({"title": "Backup finished"})).await;
    let mails = sink
        .wait_until("the second email", MAIL_DEADLINE, |m| m.len() >= 2)
        .await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(mails[1].data.contains("Backup finished"));
    assert_eq!(mentions(&mails, "Disk almost full"), 1, "sent once");
    assert!(
        sink.to("alice@example.com").is_empty(),
        "users without an address get none"
    );
}

#[tokio::test]
async fn streams_reads_mutes_and_settings_keep_notifications_out_of_email() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let admin = server.token("admin").await;
    for (slug, body) in [
        ("deploys", json!({"label": "Deploys"})),
        (
            "chatter",
            json!({"label": "Chatter", "escalation": {"enabled": false}}),
        ),
    ] {
        let res = server
            .put_json(&format!("/api/categories/{slug}"), &admin, &body)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{slug}");
    }
    let (_, erin) = user_with_email(&server, &admin, "erin").await;
    let (live, live_id) = user_with_email(&server, &admin, "live").await;
    let (reader, reader_id) = user_with_email(&server, &admin, "reader").await;
    let (muter, muter_id) = user_with_email(&server, &admin, "muter").await;
    let (quiet, quiet_id) = user_with_email(&server, &admin, "quiet").await;
    let res = server
        .put_json("/api/preferences", &muter, &json!({"muted": ["deploys"]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .put_json(
            "/api/preferences",
            &quiet,
            &json!({"muted": [], "escalation": {"enabled": false}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (mut stream, _) = server.open_stream(&live, "").await;

    send(
        &server,
        &admin,
        json!({"title": "Deploy A", "category": "deploys"}),
    )
    .await;
    send(
        &server,
        &admin,
        json!({"title": "Chatter B", "category": "chatter"}),
    )
    .await;
    send(
        &server,
        &admin,
        json!({"title": "Outage C", "category": "deploys", "severity": "critical"}),
    )
    .await;
    let mut positions = Vec::new();
    for _ in 0..3 {
        let e = stream
            .next_non_ping()
            .await
            .expect("the live stream gets it");
        assert_eq!(e.event, "notification");
        positions.push(e.json()["id"].as_i64().unwrap());
    }
    let critical = positions[2];
    for id in positions {
        let res = server
            .post_json(
                &format!("/api/notifications/{id}/read"),
                &reader,
                &json!({}),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.status());
    }

    let mails = sink
        .wait_until("erin's and muter's emails", MAIL_DEADLINE, |m| {
            let erin = m.iter().filter(|m| m.to[0] == "erin@example.com");
            let erin: Vec<Mail> = erin.cloned().collect();
            let muter: Vec<Mail> = m
                .iter()
                .filter(|m| m.to[0] == "muter@example.com")
                .cloned()
                .collect();
            mentions(&erin, "Deploy A") == 1
                && mentions(&erin, "Outage C") == 1
                && mentions(&muter, "Outage C") == 1
        })
        .await;
    for user in [erin, live_id, reader_id, muter_id, quiet_id] {
        decided(&server, user, critical).await;
    }
    let mails_now = sink.mails();
    assert_eq!(
        mails.len(),
        mails_now.len(),
        "nothing came after: {mails_now:#?}"
    );
    assert_eq!(mentions(&mails_now, "Chatter B"), 0, "its category is off");
    let to = |who: &str| sink.to(&format!("{who}@example.com"));
    assert!(
        to("live").is_empty(),
        "it reached a stream: {:#?}",
        to("live")
    );
    assert!(to("reader").is_empty(), "read before the delay");
    assert!(to("quiet").is_empty(), "the user turned it off");
    assert_eq!(mentions(&to("muter"), "Deploy A"), 0, "muted");
    assert_eq!(
        mentions(&to("muter"), "Outage C"),
        1,
        "critical is never muted"
    );
}

#[tokio::test]
async fn settings_are_checked_kept_when_absent_and_shown() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;

    let prefs = server.get_json("/api/preferences", &alice).await;
    assert_eq!(prefs["escalation"], json!({"enabled": true}), "{prefs}");
    for bad in [json!(0), json!(604_801), json!(-5), json!("soon")] {
        let res = server
            .put_json(
                "/api/preferences",
                &alice,
                &json!({"muted": [], "escalation": {"enabled": true, "after_secs": bad}}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        let error = res.json::<Value>().await.unwrap()["error"].to_string();
        assert!(error.contains("after_secs"), "{error}");
    }
    let res = server
        .put_json(
            "/api/preferences",
            &alice,
            &json!({"muted": [], "escalation": {"enabled": true, "after_secs": 600}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // An old body (no `escalation`) keeps the saved choice.
    let res = server
        .put_json("/api/preferences", &alice, &json!({"muted": []}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let prefs = server.get_json("/api/preferences", &alice).await;
    assert_eq!(
        prefs["escalation"],
        json!({"enabled": true, "after_secs": 600})
    );

    let res = server
        .put_json(
            "/api/categories/ops",
            &admin,
            &json!({"label": "Ops", "escalation": {"enabled": true, "after_secs": 0}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = server
        .put_json(
            "/api/categories/ops",
            &admin,
            &json!({"label": "Ops", "escalation": {"enabled": true, "after_secs": 3600}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .put_json(
            "/api/categories/ops",
            &admin,
            &json!({"label": "Operations"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let ops = res.json::<Value>().await.unwrap();
    assert_eq!(
        ops["escalation"],
        json!({"enabled": true, "after_secs": 3600}),
        "{ops}"
    );
    let listed = server.get_json("/api/categories", &alice).await;
    assert!(
        listed.to_string().contains("\"after_secs\":3600"),
        "{listed}"
    );

    // The preferences page carries the controls, with the saved delay.
    let cookie = server.cookie("alice").await;
    let page = server
        .http
        .get(server.url("/preferences"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"email-escalation\""), "{html}");
    assert!(html.contains("data-testid=\"escalate-after\""), "{html}");
}

#[tokio::test]
async fn a_category_delay_holds_back_only_its_own_notifications() {
    let sink = SmtpSink::start().await;
    let server = start(&sink).await;
    let admin = server.token("admin").await;
    let res = server
        .put_json(
            "/api/categories/digest",
            &admin,
            &json!({"label": "Digest", "escalation": {"enabled": true, "after_secs": 3600}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    user_with_email(&server, &admin, "erin").await;
    send(
        &server,
        &admin,
        json!({"title": "Weekly digest", "category": "digest"}),
    )
    .await;
    send(&server, &admin, json!({"title": "Urgent thing"})).await;
    let mails = sink
        .wait_until("the urgent one", MAIL_DEADLINE, |m| !m.is_empty())
        .await;
    assert_eq!(mentions(&mails, "Urgent thing"), 1);
    assert_eq!(
        mentions(&mails, "Weekly digest"),
        0,
        "its hour has not passed"
    );
    // Past the held one, the next due one goes out alone: the urgent one
    // is remembered as sent.
    send(&server, &admin, json!({"title": "Another thing"})).await;
    let mails = sink
        .wait_until("the next one", MAIL_DEADLINE, |m| m.len() >= 2)
        .await;
    assert_eq!(mentions(&mails, "Urgent thing"), 1, "{mails:#?}");
    assert_eq!(mentions(&mails, "Another thing"), 1);
}

#[tokio::test]
async fn a_restart_sends_nothing_twice() {
    let sink = SmtpSink::start().await;
    let first = start(&sink).await;
    let admin = first.token("admin").await;
    let (_, erin) = user_with_email(&first, &admin, "erin").await;
    send(&first, &admin, json!({"title": "Before the restart"})).await;
    let position = newest(&first, &admin).await;
    sink.wait_until("the first email", MAIL_DEADLINE, |m| m.len() == 1)
        .await;
    decided(&first, erin, position).await;
    first.shutdown.notify_one();

    let settings = settings(&sink);
    let second = first.start_sharing_db(&extra(&settings)).await;
    let admin = second.token("admin").await;
    send(&second, &admin, json!({"title": "After the restart"})).await;
    let mails = sink
        .wait_until("the second email", MAIL_DEADLINE, |m| {
            mentions(m, "After the restart") == 1
        })
        .await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert_eq!(mentions(&mails, "Before the restart"), 1, "not sent again");
}

#[tokio::test]
async fn a_mail_server_that_was_down_gets_the_email_once_when_back() {
    let sink = SmtpSink::start().await;
    sink.set_up(false);
    let server = start(&sink).await;
    let admin = server.token("admin").await;
    let (_, erin) = user_with_email(&server, &admin, "erin").await;
    send(&server, &admin, json!({"title": "While mail was down"})).await;
    let position = newest(&server, &admin).await;
    eventually("a failed send, kept for a retry", async || {
        let (up_to, pending, attempts) = row(&server, erin).await;
        up_to >= position && pending && attempts >= 2
    })
    .await;
    assert!(sink.refused() >= 2);
    assert!(sink.mails().is_empty());
    sink.set_up(true);
    sink.wait_until("the retried email", MAIL_DEADLINE, |m| !m.is_empty())
        .await;
    decided(&server, erin, position).await;
    send(&server, &admin, json!({"title": "After mail came back"})).await;
    let mails = sink
        .wait_until("the next email", MAIL_DEADLINE, |m| m.len() >= 2)
        .await;
    assert_eq!(mentions(&mails, "While mail was down"), 1, "{mails:#?}");
    assert_eq!(mentions(&mails, "After mail came back"), 1);
}

#[tokio::test]
async fn two_instances_on_postgresql_send_each_digest_once() {
    let sink = SmtpSink::start().await;
    let Some(url) = crate::pg::fresh_database().await else {
        return;
    };
    let settings = settings(&sink);
    let mut fast = extra(&settings);
    fast.push(("HERALD_ESCALATE_TICK_MS", "20"));
    let a = TestServer::start_on(&url, &fast).await;
    let b = TestServer::start_on(&url, &fast).await;
    let admin = a.token("admin").await;
    let names: Vec<String> = (0..8).map(|n| format!("user{n}")).collect();
    for name in &names {
        user_with_email(&a, &admin, name).await;
    }
    send(&a, &admin, json!({"title": "First for everyone"})).await;
    let admin_b = b.token("admin").await;
    send(&b, &admin_b, json!({"title": "Second for everyone"})).await;
    let mails = sink
        .wait_until("every user's emails", MAIL_DEADLINE, |m| {
            names.iter().all(|n| {
                let theirs: Vec<Mail> = m
                    .iter()
                    .filter(|m| m.to[0] == format!("{n}@example.com"))
                    .cloned()
                    .collect();
                mentions(&theirs, "First for everyone") >= 1
                    && mentions(&theirs, "Second for everyone") >= 1
            })
        })
        .await;
    // One more notification, so that both instances run many more passes.
    send(&a, &admin, json!({"title": "Third for everyone"})).await;
    let mails_then = sink
        .wait_until("the third", MAIL_DEADLINE, |m| {
            mentions(m, "Third for everyone") >= names.len()
        })
        .await;
    assert!(mails_then.len() > mails.len());
    for name in &names {
        let theirs = sink.to(&format!("{name}@example.com"));
        for title in [
            "First for everyone",
            "Second for everyone",
            "Third for everyone",
        ] {
            assert_eq!(mentions(&theirs, title), 1, "{name}: {title}: {theirs:#?}");
        }
    }
}
