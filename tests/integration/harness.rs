//! A real Herald on 127.0.0.1:0 with its own SQLite file, and a small SSE
//! reader for the stream.
#![allow(dead_code)]

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures_util::StreamExt;
use herald::server::{config::Config, run, start_background_tasks, state::AppState};
use leptos::prelude::LeptosOptions;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Notify;

pub const PASSWORD: &str = "herald-demo";
/// Long enough that no test sees a ping unless it asks for shorter ones.
const PING_SECS: &str = "30";

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub http: Client,
    /// Opens every stream on a connection of its own, as a browser's
    /// EventSource usually does, so streams take the direct path
    /// (`tests/integration/wire.rs` covers the router's).
    pub streams: Client,
    /// `notify_one` starts a graceful shutdown, as SIGTERM does.
    pub shutdown: Arc<Notify>,
    /// Owned by the first server on a database; a second one shares it.
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    /// On SQLite in a temp dir; on the throwaway PostgreSQL instead when
    /// `HERALD_TEST_BACKEND=postgres` (how `make test` runs the stream
    /// contract suites a second time, on the other backend). That pass
    /// asks for PostgreSQL by name, so a missing one fails it whatever
    /// `HERALD_SKIP_POSTGRES` says (`pg.rs`).
    pub async fn start_with(extra: &[(&str, &str)]) -> TestServer {
        if std::env::var("HERALD_TEST_BACKEND").as_deref() == Ok("postgres") {
            let url = crate::pg::PgCluster::required().database().await;
            return Self::start_on(&url, extra).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}/herald.db", dir.path().display());
        let mut server = Self::start_on(&db, extra).await;
        server._dir = Some(dir);
        server
    }

    /// A second server on this one's database, as after a restart.
    pub async fn start_sharing_db(&self, extra: &[(&str, &str)]) -> TestServer {
        Self::start_on(&self.state.config.database_url, extra).await
    }

    /// A server on a fresh database of the shared throwaway PostgreSQL
    /// (`pg.rs`); `None` only when PostgreSQL is missing and the developer
    /// opted out with `HERALD_SKIP_POSTGRES=1` (the test then returns).
    pub async fn start_postgres(extra: &[(&str, &str)]) -> Option<TestServer> {
        let url = crate::pg::fresh_database().await?;
        Some(Self::start_on(&url, extra).await)
    }

    /// A server on the database `db` names (several servers on one
    /// PostgreSQL database are instances of one cluster).
    pub async fn start_on(db: &str, extra: &[(&str, &str)]) -> TestServer {
        let db = db.to_string();
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db),
            ("HERALD_DEMO".into(), "1".into()),
            // The demo's week of notifications would be in every inbox.
            ("HERALD_DEMO_SEED".into(), "0".into()),
            (
                "HERALD_JWT_SECRET".into(),
                "test-secret-test-secret-test-secret!".into(),
            ),
            ("HERALD_PING_SECS".into(), PING_SECS.into()),
            ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|k| {
            vars.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        })
        .expect("test config");
        // LEPTOS_SITE_ROOT among `extra`: a site of the test's own (assets.rs).
        let site_root = vars
            .iter()
            .rev()
            .find(|(n, _)| n == "LEPTOS_SITE_ROOT")
            .map_or("target/site".to_string(), |(_, v)| v.clone());
        let options = LeptosOptions::builder()
            .output_name("herald")
            .site_root(site_root)
            .build();
        let state = AppState::new(config, options).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().unwrap();
        start_background_tasks(&state);
        let shutdown = Arc::new(Notify::new());
        let stop = shutdown.clone();
        tokio::spawn(run(listener, state.clone(), async move {
            stop.notified().await
        }));
        TestServer {
            base: format!("http://{addr}"),
            state,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            streams: Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            shutdown,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.http
            .post(self.url("/api/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session cookie, `herald_session=…`, as a
    /// browser would send it back.
    pub async fn cookie(&self, username: &str) -> String {
        let res = self.login_response(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {username}");
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
        set_cookie.split(';').next().unwrap().to_string()
    }

    /// Signs in and returns the bearer token.
    pub async fn token(&self, username: &str) -> String {
        let res = self.login_response(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {username}");
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn user_id(&self, token: &str) -> i64 {
        let me: Value = self
            .http
            .get(self.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        me["id"].as_i64().unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn logout(&self, token: &str) -> Response {
        self.http
            .post(self.url("/api/auth/logout"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET that must answer 200; returns the JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The `/metrics` text (open to loopback callers).
    pub async fn metrics(&self) -> String {
        let res = self.http.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "/metrics");
        res.text().await.unwrap()
    }

    pub async fn broadcast(&self, admin_token: &str, title: &str) -> Value {
        let res = self
            .post_json(
                "/api/sse/broadcast",
                admin_token,
                &json!({ "event": "notification", "data": { "title": title, "body": "b" } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Opens `/sse/stream` with a bearer token and waits for `connected`.
    pub async fn open_stream(&self, token: &str, query: &str) -> (SseReader, SseEvent) {
        self.open_stream_with(token, query, &[]).await
    }

    /// [`Self::open_stream`] with extra request headers (`Last-Event-ID`,
    /// as a browser's EventSource sends it when it reconnects).
    pub async fn open_stream_with(
        &self,
        token: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> (SseReader, SseEvent) {
        let mut request = self
            .streams
            .get(self.url(&format!("/sse/stream{query}")))
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut reader = SseReader::new(res);
        let connected = reader.next_event().await.expect("connected event");
        assert_eq!(connected.event, "connected");
        (reader, connected)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub retry: Option<String>,
    pub data: String,
    /// Every line of the frame as received, to check the wire format.
    pub lines: Vec<String>,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("data is JSON")
    }
}

pub struct SseReader {
    pub headers: reqwest::header::HeaderMap,
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

/// Bound on how long a test waits for an event that should come at once.
const EVENT_DEADLINE: Duration = Duration::from_secs(10);

impl SseReader {
    pub fn new(res: Response) -> SseReader {
        Self::from_body(res.headers().clone(), res.bytes_stream())
    }

    /// A reader over a body the test decoded itself (a raw socket's chunks).
    pub fn from_body(
        headers: reqwest::header::HeaderMap,
        body: impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + 'static,
    ) -> SseReader {
        SseReader {
            headers,
            stream: body.boxed(),
            buf: String::new(),
        }
    }

    /// The next event, `None` when the stream ends. Panics after a deadline.
    pub async fn next_event(&mut self) -> Option<SseEvent> {
        tokio::time::timeout(EVENT_DEADLINE, self.read_event())
            .await
            .expect("no SSE event within the deadline")
    }

    /// The next event that is not a `ping`.
    pub async fn next_non_ping(&mut self) -> Option<SseEvent> {
        loop {
            let event = self.next_event().await?;
            if event.event != "ping" {
                return Some(event);
            }
        }
    }

    /// Waits for the server to end the stream, skipping pings.
    pub async fn expect_end(&mut self) {
        while let Some(event) = self.next_event().await {
            assert_eq!(
                event.event, "ping",
                "unexpected event before the end: {event:?}"
            );
        }
    }

    async fn read_event(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    ..Default::default()
                };
                for line in raw.trim_end_matches('\n').split('\n') {
                    event.lines.push(line.to_string());
                    let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                    match field {
                        "event" => event.event = value.to_string(),
                        "id" => event.id = Some(value.to_string()),
                        "retry" => event.retry = Some(value.to_string()),
                        "data" => event.data.push_str(value),
                        _ => {}
                    }
                }
                return Some(event);
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// Waits for a state the server reaches on its own (noticing a closed
/// socket, say), checking it every few milliseconds up to a deadline.
pub async fn eventually(what: &str, mut reached: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + EVENT_DEADLINE;
    while !reached().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
