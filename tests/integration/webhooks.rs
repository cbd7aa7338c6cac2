//! Signed webhooks (issue 17): a real loopback receiver (axum on port 0)
//! gets what Herald sends, and a verifier written by others (the
//! `standardwebhooks` crate) checks the real requests; a receiver that is
//! down then up gets every message once, in order; a dead one holds up
//! neither publishing nor other endpoints; private URLs and missing
//! scopes are refused.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc, Mutex,
    },
};

use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use herald::model::Scope;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    harness::{eventually, TestServer},
    service_keys::key,
};

/// Loopback receivers need the private-address guard lifted; retries come
/// fast so that a test waits milliseconds, not the default seconds.
const RECEIVER_ENV: &[(&str, &str)] = &[
    ("HERALD_WEBHOOK_ALLOW_PRIVATE", "1"),
    ("HERALD_WEBHOOK_RETRY_BASE_MS", "20"),
];

const UP: u8 = 0;
const DOWN: u8 = 1;
const HANGING: u8 = 2;

/// One request as the receiver got it.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    /// Answered 2xx.
    accepted: bool,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }
}

#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            got: Arc::default(),
            mode: Arc::new(AtomicU8::new(UP)),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.accepted).collect()
    }

    async fn wait_accepted(&self, n: usize) -> Vec<Received> {
        eventually(&format!("{n} webhook(s) accepted"), async || {
            self.accepted().len() >= n
        })
        .await;
        self.accepted()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mode = receiver.mode.load(Ordering::SeqCst);
    if mode == HANGING {
        std::future::pending::<()>().await;
    }
    let accepted = mode == UP;
    receiver.got.lock().unwrap().push(Received {
        headers,
        body,
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Registers `url` for `events`; returns (id, secret).
async fn register(server: &TestServer, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let res = server
        .post_json(
            "/api/webhooks",
            token,
            &json!({ "url": url, "events": events }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (body["data"]["id"].as_i64().unwrap(), secret)
}

fn verifier(secret: &str) -> standardwebhooks::Webhook {
    standardwebhooks::Webhook::new(secret).expect("a whsec_ secret the verifier reads")
}

async fn endpoint_view(server: &TestServer, token: &str, id: i64) -> Value {
    let list = server.get_json("/api/webhooks", token).await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .expect("the endpoint is listed")
}

#[tokio::test]
async fn a_broadcast_reaches_the_receiver_signed_and_a_tampered_one_fails_verification() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&server, &admin, &receiver.url(), &["announcement.sent"]).await;

    let sent = server.broadcast(&admin, "deploy done").await;
    let got = receiver.wait_accepted(1).await;
    let message = &got[0];
    let body = message.json();
    assert_eq!(body["type"], "announcement.sent");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    assert_eq!(body["data"]["id"], sent["data"]["id"]);
    assert_eq!(body["data"]["title"], "deploy done");
    assert_eq!(body["data"]["target"], "all");
    assert_eq!(message.headers["content-type"], "application/json");
    assert!(message.headers["webhook-signature"]
        .to_str()
        .unwrap()
        .starts_with("v1,"));

    // The real request verifies; any change to it does not.
    let wh = verifier(&secret);
    wh.verify(&message.body, &message.headers)
        .expect("Herald's signature verifies");
    let mut tampered_body = message.body.to_vec();
    let at = tampered_body.iter().position(|&b| b == b'd').unwrap();
    tampered_body[at] = b'D';
    assert!(wh.verify(&tampered_body, &message.headers).is_err());
    let mut tampered = message.headers.clone();
    let signature = tampered["webhook-signature"].to_str().unwrap().to_string();
    let flipped = if signature[3..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let forged = format!("v1,{flipped}{}", &signature[4..]);
    tampered.insert("webhook-signature", forged.parse().unwrap());
    assert!(wh.verify(&message.body, &tampered).is_err());
    let mut other_id = message.headers.clone();
    other_id.insert("webhook-id", "msg_other".parse().unwrap());
    assert!(wh.verify(&message.body, &other_id).is_err());
    let other_secret = verifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(other_secret
        .verify(&message.body, &message.headers)
        .is_err());

    // Listed with its attempt, never with its secret.
    let listed = server.get("/api/webhooks", &admin).await;
    let text = listed.text().await.unwrap();
    assert!(!text.contains(&secret), "the secret is shown once only");
    eventually("the attempt is listed", async || {
        let view = endpoint_view(&server, &admin, id).await;
        view["pending"] == 0 && view["recent_attempts"][0]["status"] == 204
    })
    .await;
    let view = endpoint_view(&server, &admin, id).await;
    assert_eq!(view["recent_attempts"][0]["message_id"], message.id());
    assert_eq!(view["recent_attempts"][0]["ok"], true);
}

#[tokio::test]
async fn reading_sends_notification_read_and_only_subscribed_events_go_out() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    let (_, secret) = register(&server, &admin, &receiver.url(), &["notification.read"]).await;

    let sent = server.broadcast(&admin, "invoice due").await;
    let announcement = sent["data"]["id"].as_i64().unwrap();
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let page = server.get_json("/api/notifications", &alice).await;
    let position = page["items"][0]["id"].as_i64().unwrap();
    let res = server
        .post_json(
            &format!("/api/notifications/{position}/read"),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Messages go out in order: had the broadcast been sent to this
    // endpoint, it would have come first.
    let got = receiver.wait_accepted(1).await;
    let body = got[0].json();
    assert_eq!(body["type"], "notification.read", "{body}");
    assert_eq!(body["data"]["user_id"], alice_id);
    assert_eq!(body["data"]["username"], "alice");
    assert_eq!(body["data"]["ids"], json!([position]));
    assert_eq!(body["data"]["announcement_ids"], json!([announcement]));
    assert_eq!(body["data"]["unread"], 0);
    verifier(&secret)
        .verify(&got[0].body, &got[0].headers)
        .expect("verifies");

    server.broadcast(&admin, "second").await;
    let res = server
        .post_json("/api/notifications/read-all", &alice, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = receiver.wait_accepted(2).await;
    let body = got[1].json();
    assert_eq!(body["type"], "notification.read");
    assert!(body["data"]["up_to_position"].as_i64().unwrap() > position);
    assert_eq!(receiver.all().len(), 2, "nothing else was sent");
}

/// Retries of one publish racing with one `Idempotency-Key`: the losers'
/// turns roll back, and their messages with them (the outbox is in the
/// publishing transaction), so one message goes out.
#[tokio::test]
async fn racing_retries_of_one_publish_send_one_message() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    register(&server, &admin, &receiver.url(), &["announcement.sent"]).await;
    let body = json!({ "event": "notification", "data": { "title": "raced", "body": "b" } });
    let tries = (0..8).map(|_| {
        server
            .http
            .post(server.url("/api/sse/broadcast"))
            .bearer_auth(&admin)
            .header("idempotency-key", "one-publish")
            .json(&body)
            .send()
    });
    let mut ids = Vec::new();
    for res in futures_util::future::join_all(tries).await {
        let res = res.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        ids.push(res.json::<Value>().await.unwrap()["data"]["id"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    // In order: once the next publish's message is in, any other would be too.
    server.broadcast(&admin, "after").await;
    eventually("the marker", async || {
        receiver
            .accepted()
            .iter()
            .any(|r| r.json()["data"]["title"] == "after")
    })
    .await;
    let titles: Vec<Value> = receiver
        .all()
        .iter()
        .map(|r| r.json()["data"]["title"].clone())
        .collect();
    assert_eq!(titles, [json!("raced"), json!("after")]);
}

#[tokio::test]
async fn a_receiver_that_is_down_then_up_gets_every_message_once_in_order() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    receiver.set(DOWN);
    let (id, secret) = register(&server, &admin, &receiver.url(), &["announcement.sent"]).await;

    let titles: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
    for title in &titles {
        server.broadcast(&admin, title).await;
    }
    eventually("retries while down", async || receiver.all().len() >= 3).await;
    let view = endpoint_view(&server, &admin, id).await;
    assert_eq!(view["pending"], 5);
    assert_eq!(view["recent_attempts"][0]["status"], 503);
    assert_eq!(view["recent_attempts"][0]["ok"], false);

    receiver.set(UP);
    let got = receiver.wait_accepted(5).await;
    eventually("the queue is empty", async || {
        endpoint_view(&server, &admin, id).await["pending"] == 0
    })
    .await;
    let accepted = receiver.accepted();
    let accepted_titles: Vec<String> = accepted
        .iter()
        .map(|r| {
            verifier(&secret)
                .verify(&r.body, &r.headers)
                .expect("verifies");
            r.json()["data"]["title"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(accepted_titles, titles, "each once, in order");
    assert_eq!(got.len(), 5);
    // While down, only the head was tried: nothing overtook it.
    let first = accepted[0].id();
    for refused in receiver.all().iter().filter(|r| !r.accepted) {
        assert_eq!(refused.id(), first, "only the oldest message is retried");
        assert_eq!(refused.json()["data"]["title"], "m0");
    }
}

#[tokio::test]
async fn a_receiver_not_listening_then_listening_gets_every_message_in_order() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    // A port nobody listens on, for now.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = parked.local_addr().unwrap();
    drop(parked);
    let url = format!("http://{addr}/hook");
    let (id, _) = register(&server, &admin, &url, &["announcement.sent"]).await;
    server.broadcast(&admin, "a").await;
    server.broadcast(&admin, "b").await;
    eventually("a refused connection recorded", async || {
        let view = endpoint_view(&server, &admin, id).await;
        view["recent_attempts"][0]["error"].is_string()
    })
    .await;

    let receiver = Receiver::serve(tokio::net::TcpListener::bind(addr).await.unwrap());
    let got = receiver.wait_accepted(2).await;
    let titles: Vec<Value> = got
        .iter()
        .map(|r| r.json()["data"]["title"].clone())
        .collect();
    assert_eq!(titles, [json!("a"), json!("b")]);
}

#[tokio::test]
async fn a_hanging_endpoint_holds_up_neither_publishing_nor_other_endpoints() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let hanging = Receiver::start().await;
    hanging.set(HANGING);
    let healthy = Receiver::start().await;
    register(&server, &admin, &hanging.url(), &["announcement.sent"]).await;
    register(&server, &admin, &healthy.url(), &["announcement.sent"]).await;
    for i in 0..3 {
        server.broadcast(&admin, &format!("n{i}")).await;
    }
    let got = healthy.wait_accepted(3).await;
    assert_eq!(got[2].json()["data"]["title"], "n2");
    assert!(hanging.all().is_empty(), "the hanging one has not answered");
}

#[tokio::test]
async fn delivered_comes_in_batches_with_counts() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    register(
        &server,
        &admin,
        &receiver.url(),
        &["notification.delivered"],
    )
    .await;
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let (mut alice_stream, _) = server.open_stream(&alice, "").await;
    let (mut bob_stream, _) = server.open_stream(&bob, "").await;
    let sent = server.broadcast(&admin, "seen").await;
    assert_eq!(
        alice_stream.next_non_ping().await.unwrap().event,
        "notification"
    );
    assert_eq!(
        bob_stream.next_non_ping().await.unwrap().event,
        "notification"
    );

    eventually("both deliveries counted", async || {
        receiver
            .accepted()
            .iter()
            .flat_map(|r| {
                r.json()["data"]["announcements"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|a| a["id"] == sent["data"]["id"])
            .map(|a| a["delivered"].as_i64().unwrap())
            .sum::<i64>()
            >= 2
    })
    .await;
    let body = receiver.accepted()[0].json();
    assert_eq!(body["type"], "notification.delivered");
    assert!(body["data"]["users"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn private_addresses_and_unknown_events_are_refused() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://[::1]:9/hook",
        "http://169.254.169.254/latest",
    ] {
        let res = server
            .post_json(
                "/api/webhooks",
                &admin,
                &json!({ "url": url, "events": ["announcement.sent"] }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().starts_with("url"), "{body}");
    }
    let res = server
        .post_json(
            "/api/webhooks",
            &admin,
            &json!({ "url": "https://example.com/hook", "events": ["announcement.snet"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().starts_with("events"),
        "{body}"
    );
    let list = server.get_json("/api/webhooks", &admin).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn webhooks_need_read_and_publish() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let receiver = Receiver::start().await;
    let body = json!({ "url": receiver.url(), "events": ["announcement.sent"] });
    let read_only = key(&server, "reader", &[Scope::Read]).await;
    let publish_only = key(&server, "publisher", &[Scope::Publish]).await;
    let both = key(&server, "hooks", &[Scope::Read, Scope::Publish]).await;

    for (token, missing) in [(&read_only, "publish"), (&publish_only, "read")] {
        for res in [
            server.post_json("/api/webhooks", token, &body).await,
            server.get("/api/webhooks", token).await,
            server.delete("/api/webhooks/1", token).await,
        ] {
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            let refusal: Value = res.json().await.unwrap();
            let error = refusal["error"].as_str().unwrap();
            assert!(error.contains(&format!("\"{missing}\" scope")), "{error}");
        }
    }
    let alice = server.token("alice").await;
    assert_eq!(
        server
            .post_json("/api/webhooks", &alice, &body)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.get("/api/webhooks", "not-a-token").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let (id, _) = register(&server, &both, &receiver.url(), &["announcement.sent"]).await;
    let list = server.get_json("/api/webhooks", &both).await;
    assert_eq!(list["data"][0]["id"], id);
    assert_eq!(list["data"][0]["created_by"], "key:hooks");
    let path = format!("/api/webhooks/{id}");
    assert_eq!(
        server.delete(&path, &both).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.delete(&path, &both).await.status(),
        StatusCode::NOT_FOUND
    );

    // The console's server functions: admins only, checked on the server.
    for (token, status) in [
        (&alice, StatusCode::FORBIDDEN),
        (&server.token("admin").await, StatusCode::OK),
    ] {
        let res = server
            .http
            .post(server.url(herald::api::webhooks::ListWebhooks::PATH))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[] as &[(&str, &str)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
    }
}

/// Two instances on one PostgreSQL database share the outbox: each message
/// goes out once, in order.
#[tokio::test]
async fn a_cluster_sends_each_message_once() {
    let Some(first) = TestServer::start_postgres(RECEIVER_ENV).await else {
        return;
    };
    let second = first.start_sharing_db(RECEIVER_ENV).await;
    let admin = first.token("admin").await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&first, &admin, &receiver.url(), &["announcement.sent"]).await;
    let titles: Vec<String> = (0..6).map(|i| format!("c{i}")).collect();
    for (i, title) in titles.iter().enumerate() {
        let via = if i % 2 == 0 { &first } else { &second };
        via.broadcast(&admin, title).await;
    }
    receiver.wait_accepted(6).await;
    eventually("the queue is empty", async || {
        endpoint_view(&first, &admin, id).await["pending"] == 0
    })
    .await;
    let got: Vec<String> = receiver
        .all()
        .iter()
        .map(|r| r.json()["data"]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, titles);
}

/// The console's section, rendered on the server: the endpoint and its
/// last attempt, never its secret.
#[tokio::test]
async fn the_admin_console_lists_endpoints_and_their_attempts_without_secrets() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&server, &admin, &receiver.url(), &["announcement.sent"]).await;
    server.broadcast(&admin, "shown").await;
    receiver.wait_accepted(1).await;
    eventually("the attempt is recorded", async || {
        endpoint_view(&server, &admin, id).await["recent_attempts"][0]["status"] == 204
    })
    .await;

    let page = server
        .http
        .get(server.url("/admin"))
        .header("cookie", server.cookie("admin").await)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"webhooks\""), "the section");
    assert!(html.contains(&receiver.url()), "the endpoint is listed");
    assert!(html.contains("announcement.sent 204"), "its last attempt");
    assert!(!html.contains(&secret), "never the secret");
}

/// Issue 19: a user's first click on an action sends `notification.clicked`;
/// their later clicks send nothing (messages go out in order, so the read
/// after them would come after any such message).
#[tokio::test]
async fn the_first_click_on_an_action_sends_notification_clicked() {
    let server = TestServer::start_with(RECEIVER_ENV).await;
    let admin = server.token("admin").await;
    let receiver = Receiver::start().await;
    let events = ["notification.clicked", "notification.read"];
    let (_, secret) = register(&server, &admin, &receiver.url(), &events).await;
    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "data": { "title": "Review", "actions": [{ "label": "Open", "url": "/x" }] } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let announcement = res.json::<Value>().await.unwrap()["data"]["id"]
        .as_i64()
        .unwrap();
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let page = server.get_json("/api/notifications", &alice).await;
    let position = page["items"][0]["id"].as_i64().unwrap();
    for _ in 0..2 {
        let res = server
            .post_json(
                &format!("/api/notifications/{position}/click"),
                &alice,
                &json!({ "action": 0 }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = server
        .post_json(
            &format!("/api/notifications/{position}/read"),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let got = receiver.wait_accepted(2).await;
    let types: Vec<Value> = got.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [json!("notification.clicked"), json!("notification.read")]
    );
    let body = got[0].json();
    assert_eq!(body["data"]["user_id"], alice_id);
    assert_eq!(body["data"]["id"], position);
    assert_eq!(body["data"]["announcement_id"], announcement);
    assert_eq!(body["data"]["action"], 0);
    verifier(&secret)
        .verify(&got[0].body, &got[0].headers)
        .expect("verifies");
    assert_eq!(receiver.all().len(), 2, "one message per first click");
}
