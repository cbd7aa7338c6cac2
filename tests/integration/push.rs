//! Web Push (docs/escalation.md, "Web Push") against a real HTTP "push
//! service" (`push_sink.rs`) and a real browser-side decryption written by
//! others (`end2end/push-decrypt.cjs`, the http_ece package): what stays
//! unread and reached no stream for the delay is pushed once to each of
//! the user's browsers, VAPID-signed and encrypted for that browser only;
//! a 410 removes the subscription; a failure is retried, not duplicated;
//! a live stream or an unsubscription sends nothing; bad subscriptions
//! and private endpoints are refused with the field named.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use herald::server::store::Pool;
use p256::{
    ecdsa::{signature::Verifier, Signature, VerifyingKey},
    elliptic_curve::sec1::ToEncodedPoint,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    escalation::{decided, extra, newest, send, user_with_email},
    harness::TestServer,
    push_sink::{PushRequest, PushSink},
    smtp_sink::SmtpSink,
};

/// Long enough for a delay, a pass and a send on a busy machine.
const PUSH_DEADLINE: Duration = Duration::from_secs(20);

/// A VAPID key of the test's own: PostgreSQL has no push without one
/// (`HERALD_TEST_BACKEND=postgres` runs this suite there too).
fn settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "HERALD_VAPID_PRIVATE_KEY",
            herald::server::push::Vapid::generate().unwrap(),
        ),
        ("HERALD_WEBHOOK_ALLOW_PRIVATE", "1".into()),
        ("HERALD_VAPID_SUBJECT", "mailto:ops@example.com".into()),
        ("HERALD_ESCALATE_MIN_SECS", "1".into()),
        // Three funnel flushes: a live stream's delivery is recorded before it is due.
        ("HERALD_ESCALATE_AFTER_SECS", "3".into()),
        ("HERALD_ESCALATE_TICK_MS", "100".into()),
        ("HERALD_ESCALATE_RETRY_BASE_MS", "200".into()),
    ]
}

async fn start() -> TestServer {
    let settings = settings();
    TestServer::start_with(&extra(&settings)).await
}

/// A browser's side of a subscription: its own P-256 key pair and auth
/// secret, as `PushManager.subscribe` makes them.
struct Browser {
    private: [u8; 32],
    public: String,
    auth: String,
}

impl Browser {
    fn new() -> Browser {
        let key = loop {
            let mut raw = [0u8; 32];
            getrandom::getrandom(&mut raw).unwrap();
            if p256::SecretKey::from_slice(&raw).is_ok() {
                break raw;
            }
        };
        let public = p256::SecretKey::from_slice(&key).unwrap().public_key();
        let mut auth = [0u8; 16];
        getrandom::getrandom(&mut auth).unwrap();
        Browser {
            private: key,
            public: URL_SAFE_NO_PAD.encode(public.to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
        }
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "expirationTime": null,
               "keys": {"p256dh": self.public, "auth": self.auth}})
    }

    /// The payload, decrypted by http_ece as a browser would.
    fn decrypt(&self, body: &[u8]) -> Value {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/push-decrypt.cjs");
        let mut child = Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node (scripts/install-tools.sh installs it)");
        let input = json!({
            "body": URL_SAFE_NO_PAD.encode(body),
            "private_key": URL_SAFE_NO_PAD.encode(self.private),
            "auth": self.auth,
        });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "http_ece could not decrypt (npm ci in end2end/?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON payload")
    }
}

/// A user without an address (push is their only way out); token and id.
async fn user(server: &TestServer, admin: &str, name: &str) -> (String, i64) {
    let body = json!({"username": name, "role": "user", "password": "password-of-a-user"});
    let res = server.post_json("/api/users", admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{name}");
    let token = server
        .login_response(name, "password-of-a-user")
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let id = server.user_id(&token).await;
    (token, id)
}

async fn subscribe(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    server
        .post_json("/api/push/subscriptions", token, body)
        .await
}

async fn unsubscribe(server: &TestServer, token: &str, endpoint: &str) -> reqwest::Response {
    server
        .http
        .delete(server.url("/api/push/subscriptions"))
        .bearer_auth(token)
        .json(&json!({ "endpoint": endpoint }))
        .send()
        .await
        .unwrap()
}

async fn subscriptions_of(server: &TestServer, user_id: i64) -> i64 {
    crate::service_keys::one_i64(
        server,
        &format!("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = {user_id}"),
    )
    .await
}

/// How many stored subscriptions have this endpoint.
async fn endpoints_like(server: &TestServer, endpoint: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM push_subscriptions WHERE endpoint = ";
    let (n,): (i64,) = match &server.state.pool {
        Pool::Sqlite(p) => sqlx::query_as(&format!("{sql}?"))
            .bind(endpoint)
            .fetch_one(p)
            .await
            .unwrap(),
        Pool::Postgres(p) => sqlx::query_as(&format!("{sql}$1"))
            .bind(endpoint)
            .fetch_one(p)
            .await
            .unwrap(),
    };
    n
}

/// Checks the request's VAPID header (RFC 8292) against the server's
/// public key: signature, audience, expiry, subject.
fn check_vapid(request: &PushRequest, public_key: &str, origin: &str) {
    let auth = request.header("authorization");
    let rest = auth.strip_prefix("vapid t=").expect(auth);
    let (jwt, k) = rest.split_once(", k=").expect(auth);
    assert_eq!(k, public_key, "k is the key browsers subscribed with");
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
    key.verify(input.as_bytes(), &sig).expect("ES256 signature");
    let (header, claims) = input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    assert_eq!(claims["sub"], "mailto:ops@example.com");
    let now = herald::server::store::now_ms() / 1000;
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
}

#[tokio::test]
async fn an_offline_user_gets_one_encrypted_signed_push_after_the_delay() {
    let sink = PushSink::start().await;
    let server = start().await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "pia").await;
    let key = server.get_json("/api/push/vapid-public-key", &token).await;
    let public_key = key["public_key"].as_str().unwrap().to_string();
    assert_eq!(URL_SAFE_NO_PAD.decode(&public_key).unwrap().len(), 65);
    let browser = Browser::new();
    let endpoint = sink.endpoint("/wpush/pia");
    let res = subscribe(&server, &token, &browser.subscription(&endpoint)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    send(&server, &admin, json!({"title": "Older", "body": "first"})).await;
    send(
        &server,
        &admin,
        json!({"title": "Disk almost full", "body": "db-1 at 91%", "link": "/status"}),
    )
    .await;
    sink.wait_for(1, PUSH_DEADLINE).await;
    decided(&server, id, newest(&server, &admin).await).await;
    // One digest of both, or (a pass between the two sends came due) one
    // each: every notification pushed once, the newest shown last.
    let got = sink.received();
    let mut counted = 0;
    for request in &got {
        assert_eq!(request.path, "/wpush/pia");
        assert_eq!(request.header("content-encoding"), "aes128gcm");
        assert_eq!(request.header("ttl"), "86400");
        assert_eq!(request.header("urgency"), "normal");
        check_vapid(request, &public_key, &sink.origin());
        counted += browser.decrypt(&request.body)["count"].as_i64().unwrap();
    }
    assert_eq!(counted, 2, "each notification once");
    let last = got.last().unwrap();
    let count = got.len() as i64 % 2 + 1; // 1 request: count 2; 2 requests: 1 each
    assert_eq!(
        browser.decrypt(&last.body),
        json!({"count": count, "title": "Disk almost full", "body": "db-1 at 91%", "link": "/status"})
    );
    let request = &got[0];
    // Another browser's keys cannot read it.
    let stranger = Browser {
        auth: browser.auth.clone(),
        ..Browser::new()
    };
    let input = json!({"body": URL_SAFE_NO_PAD.encode(&request.body),
        "private_key": URL_SAFE_NO_PAD.encode(stranger.private), "auth": stranger.auth});
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/end2end/push-decrypt.cjs"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(input.to_string().as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(!out.success(), "only the subscribing browser decrypts");

    assert_eq!(sink.received().len(), got.len(), "nothing more");
}

#[tokio::test]
async fn a_gone_subscription_is_deleted_and_a_failure_is_retried_once() {
    let sink = PushSink::start().await;
    let server = start().await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "gus").await;
    let browser = Browser::new();
    // 503, then taken: the retry delivers it, and only once.
    sink.answer(&[503, 201]);
    let res = subscribe(&server, &token, &browser.subscription(&sink.endpoint("/a"))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    send(&server, &admin, json!({"title": "Retried", "body": "b"})).await;
    let got = sink.wait_for(2, PUSH_DEADLINE).await;
    assert_eq!(browser.decrypt(&got[1].body)["title"], "Retried");
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(
        sink.received().len(),
        2,
        "the failed one again, then nothing"
    );
    assert_eq!(subscriptions_of(&server, id).await, 1);

    // 410 Gone: the subscription is removed, and nothing is retried.
    sink.answer(&[410]);
    send(&server, &admin, json!({"title": "Gone", "body": "b"})).await;
    sink.wait_for(3, PUSH_DEADLINE).await;
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(subscriptions_of(&server, id).await, 0);
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test]
async fn a_live_stream_or_an_unsubscribed_browser_gets_no_push() {
    let sink = PushSink::start().await;
    let server = start().await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "liv").await;
    let (kept, dropped) = (Browser::new(), Browser::new());
    for (browser, path) in [(&dropped, "/dropped"), (&kept, "/kept")] {
        let res = subscribe(&server, &token, &browser.subscription(&sink.endpoint(path))).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }

    // Online: the stream shows it, no push.
    let (mut stream, _) = server.open_stream(&token, "").await;
    send(&server, &admin, json!({"title": "Seen live", "body": "b"})).await;
    let event = stream.next_non_ping().await.expect("the notification");
    assert_eq!(event.event, "notification");
    decided(&server, id, newest(&server, &admin).await).await;
    assert!(sink.received().is_empty(), "{:?}", sink.received());
    drop(stream);

    // Offline, one browser unsubscribed: only the other is pushed to (the
    // dropped one was subscribed first, so it would have come first).
    let res = unsubscribe(&server, &token, &sink.endpoint("/dropped")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    send(&server, &admin, json!({"title": "While away", "body": "b"})).await;
    let got = sink.wait_for(1, PUSH_DEADLINE).await;
    assert_eq!(got[0].path, "/kept");
    assert_eq!(kept.decrypt(&got[0].body)["title"], "While away");
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn bad_subscriptions_are_refused_naming_the_field() {
    let server = start().await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "bad").await;
    let b = Browser::new();
    let cases = [
        (
            json!({"keys": {"p256dh": b.public, "auth": b.auth}}),
            "endpoint",
        ),
        (
            json!({"endpoint": "ftp://push.example/x", "keys": {"p256dh": b.public, "auth": b.auth}}),
            "endpoint",
        ),
        (json!({"endpoint": "https://push.example/x"}), "keys"),
        (
            json!({"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": b.auth}}),
            "keys.p256dh",
        ),
        (
            json!({"endpoint": "https://push.example/x", "keys": {"p256dh": b.public, "auth": "not base64!"}}),
            "keys.auth",
        ),
        (
            json!({"endpoint": "https://push.example/x", "keys": {"p256dh": b.public}}),
            "keys.auth",
        ),
    ];
    for (body, field) in cases {
        let res = subscribe(&server, &token, &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().starts_with(field),
            "{field}: {err}"
        );
    }
    assert_eq!(subscriptions_of(&server, id).await, 0);

    // Bounded: the eleventh browser replaces the oldest.
    for n in 0..11 {
        let res = subscribe(
            &server,
            &token,
            &b.subscription(&format!("https://push.example/{n}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(subscriptions_of(&server, id).await, 10);
    assert_eq!(
        (
            endpoints_like(&server, "https://push.example/0").await,
            endpoints_like(&server, "https://push.example/1").await
        ),
        (0, 1),
        "the oldest went"
    );

    let res = server.get("/api/push/vapid-public-key", "").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_private_endpoint_is_refused_unless_allowed() {
    let key = herald::server::push::Vapid::generate().unwrap();
    let server = TestServer::start_with(&[("HERALD_VAPID_PRIVATE_KEY", &key)]).await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "pri").await;
    let b = Browser::new();
    for endpoint in [
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://localhost/x",
        "http://127.0.0.1/x",
    ] {
        let res = subscribe(&server, &token, &b.subscription(endpoint)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{endpoint}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().unwrap().starts_with("endpoint"),
            "{err}"
        );
    }
    assert_eq!(subscriptions_of(&server, id).await, 0);
}

/// A digest goes to the address and to the browser, each once: a push
/// that fails is retried without emailing again, and an email that fails
/// is retried without pushing again.
#[tokio::test]
async fn email_and_push_each_get_the_digest_once_whichever_fails() {
    let sink = PushSink::start().await;
    let mail = SmtpSink::start().await;
    let mut settings = crate::escalation::settings(&mail);
    settings.push(("HERALD_WEBHOOK_ALLOW_PRIVATE", "1".into()));
    settings.push(("HERALD_VAPID_SUBJECT", "mailto:ops@example.com".into()));
    settings.push((
        "HERALD_VAPID_PRIVATE_KEY",
        herald::server::push::Vapid::generate().unwrap(),
    ));
    let server = TestServer::start_with(&extra(&settings)).await;
    let admin = server.token("admin").await;
    let (token, id) = user_with_email(&server, &admin, "ema").await;
    let browser = Browser::new();
    let res = subscribe(&server, &token, &browser.subscription(&sink.endpoint("/e"))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // The mail server is down (first: the mailer pools its connections): the
    // push goes once, the email when the server is back.
    mail.set_up(false);
    send(
        &server,
        &admin,
        json!({"title": "Mail was down", "body": "b"}),
    )
    .await;
    let got = sink.wait_for(1, PUSH_DEADLINE).await;
    assert_eq!(browser.decrypt(&got[0].body)["title"], "Mail was down");
    crate::harness::eventually("two refused emails", async || mail.refused() >= 2).await;
    mail.set_up(true);
    mail.wait_until("the retried email", PUSH_DEADLINE, |m| !m.is_empty())
        .await;
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(sink.received().len(), 1, "pushed once");
    assert_eq!(mail.mails().len(), 1);

    // The push service fails twice: the email goes once, the push thrice.
    sink.answer(&[503, 503, 201]);
    send(
        &server,
        &admin,
        json!({"title": "Push was down", "body": "b"}),
    )
    .await;
    let got = sink.wait_for(4, PUSH_DEADLINE).await;
    assert_eq!(browser.decrypt(&got[3].body)["title"], "Push was down");
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(mail.mails().len(), 2, "emailed once");
    assert_eq!(sink.received().len(), 4);
}

/// The escalation settings are push's too: a user who turned escalation
/// off, or muted the category, is not pushed to.
#[tokio::test]
async fn a_user_who_turned_escalation_off_or_muted_gets_no_push() {
    let sink = PushSink::start().await;
    let server = start().await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "off").await;
    let browser = Browser::new();
    let res = subscribe(
        &server,
        &token,
        &browser.subscription(&sink.endpoint("/off")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = server
        .put_json("/api/categories/noise", &admin, &json!({"label": "Noise"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .put_json(
            "/api/preferences",
            &token,
            &json!({"muted": [], "escalation": {"enabled": false}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    send(
        &server,
        &admin,
        json!({"title": "Escalation off", "body": "b"}),
    )
    .await;
    decided(&server, id, newest(&server, &admin).await).await;
    let res = server
        .put_json(
            "/api/preferences",
            &token,
            &json!({"muted": ["noise"], "escalation": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    send(
        &server,
        &admin,
        json!({"title": "Muted", "category": "noise"}),
    )
    .await;
    send(&server, &admin, json!({"title": "Pushed", "body": "b"})).await;
    let got = sink.wait_for(1, PUSH_DEADLINE).await;
    let payload = browser.decrypt(&got[0].body);
    assert_eq!(
        (payload["title"].as_str(), payload["count"].as_i64()),
        (Some("Pushed"), Some(1))
    );
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(sink.received().len(), 1);
}

/// A push service that never takes the message holds the digest back
/// only for a bounded number of attempts: then that browser misses it
/// (kept for the next), and the user's escalation moves on.
#[tokio::test]
async fn a_push_service_that_keeps_failing_is_given_up_after_the_last_attempt() {
    let sink = PushSink::start().await;
    let mut settings = settings();
    settings.retain(|(k, _)| *k != "HERALD_ESCALATE_RETRY_BASE_MS");
    settings.push(("HERALD_ESCALATE_RETRY_BASE_MS", "10".into()));
    let server = TestServer::start_with(&extra(&settings)).await;
    let admin = server.token("admin").await;
    let (token, id) = user(&server, &admin, "dea").await;
    let browser = Browser::new();
    let res = subscribe(
        &server,
        &token,
        &browser.subscription(&sink.endpoint("/dead")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    sink.answer(&[503]);
    send(
        &server,
        &admin,
        json!({"title": "Never taken", "body": "b"}),
    )
    .await;
    let attempts = herald::server::usecases::escalation::PUSH_ATTEMPTS_MAX as usize;
    sink.wait_for(attempts, PUSH_DEADLINE).await;
    decided(&server, id, newest(&server, &admin).await).await;
    assert_eq!(sink.received().len(), attempts, "then no more");
    assert_eq!(
        subscriptions_of(&server, id).await,
        1,
        "kept for the next digest"
    );
}

/// The preferences page has the switch, and the service worker it
/// registers is served from the root (its scope is the whole site) as
/// JavaScript, with its handlers.
#[tokio::test]
async fn the_switch_is_on_the_page_and_the_service_worker_is_served_as_javascript() {
    let server = TestServer::start().await;
    let res = server.http.get(server.url("/sw.js")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/javascript"), "{kind}");
    let source = res.text().await.unwrap();
    assert!(source.contains("addEventListener('push'"), "{source}");
    assert!(source.contains("addEventListener('notificationclick'"));

    let page = server
        .http
        .get(server.url("/preferences"))
        .header("cookie", server.cookie("alice").await)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"push-toggle\""), "{html}");
}
