//! A push service for the tests: a real HTTP server on 127.0.0.1:0 that
//! records every request (path, headers, body) and answers with the status
//! the test sets, as a browser vendor's push service would.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
};

use tokio::sync::Notify;

use axum::{body::Bytes, http::HeaderMap, http::StatusCode, http::Uri, Router};

#[derive(Debug, Clone)]
pub struct PushRequest {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl PushRequest {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

pub struct PushSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<PushRequest>>>,
    /// The statuses to answer, in turn; the last one repeats.
    statuses: Arc<Mutex<Vec<u16>>>,
    answered: Arc<AtomicU16>,
    /// Told each time a request is recorded: waiting is on the event.
    arrived: Arc<Notify>,
}

impl PushSink {
    pub async fn start() -> PushSink {
        let received: Arc<Mutex<Vec<PushRequest>>> = Arc::default();
        let statuses = Arc::new(Mutex::new(vec![201]));
        let answered = Arc::new(AtomicU16::new(0));
        let arrived: Arc<Notify> = Arc::default();
        let (r, s, a, told) = (
            received.clone(),
            statuses.clone(),
            answered.clone(),
            arrived.clone(),
        );
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (r, s, a, told) = (r.clone(), s.clone(), a.clone(), told.clone());
            async move {
                r.lock().unwrap().push(PushRequest {
                    path: uri.path().to_string(),
                    headers,
                    body: body.to_vec(),
                });
                told.notify_waiters();
                let n = a.fetch_add(1, Ordering::SeqCst) as usize;
                let statuses = s.lock().unwrap();
                let status = statuses[n.min(statuses.len() - 1)];
                StatusCode::from_u16(status).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        PushSink {
            addr,
            received,
            statuses,
            answered,
            arrived,
        }
    }

    /// This browser's endpoint on the service.
    pub fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `statuses` in turn from now on, the last one repeating.
    pub fn answer(&self, statuses: &[u16]) {
        *self.statuses.lock().unwrap() = statuses.to_vec();
        self.answered.store(0, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<PushRequest> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests came (the caller's deadline).
    pub async fn wait_for(&self, n: usize, deadline: std::time::Duration) -> Vec<PushRequest> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            // Registered before the check, so a request recorded in between
            // still wakes this wait.
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(until, arrived).await.is_err() {
                panic!(
                    "timed out waiting for {n} push requests (got {})",
                    self.received().len()
                );
            }
        }
    }
}
