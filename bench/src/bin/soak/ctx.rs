//! What the soak's tasks share: the virtual users and their stream slots,
//! the run's phase, the counters, and the one way to send a counted request.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use herald_bench::{
    http::{HttpConn, Reply},
    soak::{Kind, SeqSet, Tally},
};
use serde::Deserialize;
use serde_json::json;

use crate::{REQUEST_TIMEOUT, RETRY_PAUSE, SOURCE_MAIN};

#[derive(Default)]
pub struct SlotState {
    /// The `id:` of the last event received: the resume token.
    pub last_id: Option<String>,
    /// Seqs that arrived on a stream.
    pub streamed: SeqSet,
    /// Seqs read from the inbox after a `resync`.
    pub recovered: SeqSet,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub resyncs: u64,
    pub opens: u64,
}

/// One virtual user: an account, its current session, its stream slots.
pub struct Vu {
    pub name: String,
    pub id: i64,
    pub token: Mutex<String>,
    pub recent_ids: Mutex<VecDeque<i64>>,
    pub slots: Vec<Mutex<SlotState>>,
    /// Accepted (200) send-to-user publishes aimed at this user.
    pub sends_ok: AtomicU64,
}

impl Vu {
    pub fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Load,
    Drain,
    Stop,
}

pub struct Ctx {
    pub server: SocketAddr,
    pub users: Vec<Arc<Vu>>,
    pub admin_token: String,
    pub password: String,
    pub decoy: String,
    pub tally: Tally,
    pub open_streams: AtomicUsize,
    pub broadcasts_ok: AtomicU64,
    /// Publishes that got no answer: the server may or may not have stored them.
    pub publishes_unknown: AtomicU64,
    pub resyncs: AtomicU64,
    /// Established streams the server ended (sign-out, shutdown, a write timeout…).
    pub closed_by_server: AtomicU64,
    pub storms: AtomicU64,
}

impl Ctx {
    /// Seqs `vu` is owed so far: every accepted broadcast and send to them.
    pub fn expected_for(&self, vu: &Vu) -> u64 {
        self.broadcasts_ok.load(Ordering::Relaxed) + vu.sends_ok.load(Ordering::Relaxed)
    }

    pub fn user_slot(&self, user: usize, slot: usize) -> std::sync::MutexGuard<'_, SlotState> {
        self.users[user].slots[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one request on `conn`, bounded by [`REQUEST_TIMEOUT`], and counts it.
    pub async fn request(
        &self,
        conn: &mut HttpConn,
        kind: Kind,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Option<Reply> {
        let reply =
            tokio::time::timeout(REQUEST_TIMEOUT, conn.request(method, path, bearer, body)).await;
        match reply {
            Ok(Ok(reply)) => {
                self.tally.add(kind, reply.status);
                Some(reply)
            }
            Ok(Err(_)) | Err(_) => {
                // A timed-out request leaves the connection mid-answer: start afresh.
                conn.reset();
                self.tally.add(kind, 0);
                None
            }
        }
    }
}

impl Ctx {
    /// An admin publish (broadcast or send-to-user): true when accepted (200).
    /// A publish that got no answer may or may not have been stored, so it
    /// is counted apart: the loss check cannot owe it to anyone.
    pub async fn publish(&self, conn: &mut HttpConn, kind: Kind, path: &str, body: &str) -> bool {
        match self
            .request(
                conn,
                kind,
                "POST",
                path,
                Some(&self.admin_token),
                Some(body),
            )
            .await
        {
            Some(reply) => reply.status == 200,
            None => {
                self.publishes_unknown.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub user: SignedInUser,
}

#[derive(Deserialize)]
pub struct SignedInUser {
    pub id: i64,
}

/// The fields of a stored event's `data:` the check needs.
#[derive(Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    pub seq: Option<i64>,
}

#[derive(Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    pub next_before: Option<i64>,
}

#[derive(Deserialize)]
pub struct InboxItem {
    pub seq: i64,
}

pub fn login_body(name: &str, password: &str) -> String {
    json!({ "username": name, "password": password }).to_string()
}

/// Signs `name` in at setup, retrying refusals (429/503) for up to a minute.
pub async fn setup_sign_in(
    tally: &Tally,
    server: SocketAddr,
    name: &str,
    password: &str,
) -> Result<SignedIn, String> {
    let mut conn = HttpConn::new(server, Some(SOURCE_MAIN));
    let body = login_body(name, password);
    for _ in 0..60 {
        let reply = tokio::time::timeout(
            REQUEST_TIMEOUT,
            conn.request("POST", "/api/auth/login", None, Some(&body)),
        )
        .await
        .map_err(|_| format!("sign-in of {name} timed out"))?
        .map_err(|e| format!("sign-in of {name}: {e}"))?;
        tally.add(Kind::SignInSetup, reply.status);
        match reply.status {
            200 => {
                return serde_json::from_slice(&reply.body)
                    .map_err(|e| format!("sign-in of {name}: bad answer: {e}"))
            }
            429 | 503 => tokio::time::sleep(RETRY_PAUSE).await,
            s => return Err(format!("sign-in of {name}: HTTP {s}")),
        }
    }
    Err(format!("sign-in of {name}: still refused after a minute"))
}
