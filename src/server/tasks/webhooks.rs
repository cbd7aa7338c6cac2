//! Delivers the webhook outbox (`store::webhooks`).
//!
//! Every [`TICK`] the task asks which endpoints have a due message at the
//! head of their queue, and starts one worker per endpoint, at most
//! [`CONCURRENT_ENDPOINTS`] at once. A worker holds its endpoint's lease
//! (one instance per endpoint across a cluster) and sends its queue in
//! order, one message at a time: the next only after the last was
//! delivered. A failure puts the head back for later — exponential
//! backoff from `HERALD_WEBHOOK_RETRY_BASE_MS`, with jitter, up to
//! [`MAX_DELAY`], never given up — and ends the worker, so the endpoint's
//! later messages wait behind it.
//!
//! What it must never do: slow publishing (it only reads the outbox and
//! writes its own rows, in short transactions of its own), let one
//! endpoint hold others up (a worker each; a send costs at most
//! `webhook::sender::SEND_TIMEOUT`), or send a message before the one
//! before it (only the head is sent).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::server::{
    periodic,
    state::AppState,
    store::{now_ms, webhooks},
    webhook::sender::{Message, Sender},
};

pub const TICK: Duration = Duration::from_millis(200);
/// Endpoints sent to at once, per instance.
pub const CONCURRENT_ENDPOINTS: usize = 8;
/// The longest wait between two tries of one message: an endpoint that
/// comes back gets its queue within this.
pub const MAX_DELAY: Duration = Duration::from_secs(600);
/// How long a worker's hold on its endpoint lasts without renewal (it
/// renews before each send): longer than a send can take.
const LEASE: Duration = Duration::from_secs(60);
/// Delivered messages and attempts are kept this long.
const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
const PRUNE_EVERY: u32 = 3000; // ticks: ten minutes

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let sender = match Sender::new(state.config.webhook_allow_private) {
        Ok(sender) => Arc::new(sender),
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not start; webhooks stay queued");
            return tokio::spawn(async {});
        }
    };
    let workers = Workers {
        state,
        sender,
        busy: Arc::new(Mutex::new(HashSet::new())),
        slots: Arc::new(Semaphore::new(CONCURRENT_ENDPOINTS)),
    };
    let mut ticks = 0u32;
    periodic::every(TICK, move || {
        let workers = workers.clone();
        ticks = ticks.wrapping_add(1);
        let prune = ticks.is_multiple_of(PRUNE_EVERY);
        async move {
            if prune {
                let before = now_ms() - RETENTION.as_millis() as i64;
                if let Err(e) = webhooks::prune(&workers.state.pool, before).await {
                    tracing::warn!(error = %e, "webhook history not pruned");
                }
            }
            workers.start_due().await;
        }
    })
}

#[derive(Clone)]
struct Workers {
    state: AppState,
    sender: Arc<Sender>,
    /// Endpoints this instance is sending to now.
    busy: Arc<Mutex<HashSet<i64>>>,
    slots: Arc<Semaphore>,
}

/// Marks an endpoint busy for as long as its worker lives (a panic too).
struct Busy {
    busy: Arc<Mutex<HashSet<i64>>>,
    endpoint: i64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        lock(&self.busy).remove(&self.endpoint);
    }
}

fn lock(busy: &Mutex<HashSet<i64>>) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Workers {
    async fn start_due(&self) {
        let due = match webhooks::due_endpoints(
            &self.state.pool,
            now_ms(),
            (CONCURRENT_ENDPOINTS * 4) as i64,
        )
        .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "webhook outbox not read; will retry");
                return;
            }
        };
        for endpoint in due {
            if !lock(&self.busy).insert(endpoint) {
                continue;
            }
            let busy = Busy {
                busy: self.busy.clone(),
                endpoint,
            };
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                // Every slot taken: the rest wait for a later tick.
                break;
            };
            let worker = self.clone();
            tokio::spawn(async move {
                if let Err(e) = worker.drain(endpoint).await {
                    tracing::warn!(webhook = endpoint, error = %e, "webhook delivery interrupted; will retry");
                }
                drop(slot);
                drop(busy);
            });
        }
    }

    /// Sends the endpoint's queue in order while it answers; stops at the
    /// first failure (the head waits for its retry) or an empty queue.
    async fn drain(&self, endpoint: i64) -> Result<(), crate::server::store::StoreError> {
        let pool = &self.state.pool;
        let owner = &*self.state.instance_id;
        loop {
            let now = now_ms();
            if !webhooks::lease(pool, endpoint, owner, now, now + LEASE.as_millis() as i64).await? {
                // Another instance has it.
                return Ok(());
            }
            let Some(head) = webhooks::head(pool, endpoint).await? else {
                break;
            };
            if head.next_attempt_at > now {
                break;
            }
            let id = webhooks::message_id(head.outbox_id);
            let outcome = self
                .sender
                .send(&Message {
                    url: &head.url,
                    secret: &head.secret,
                    id: &id,
                    body: &head.body,
                })
                .await;
            let delivered = outcome.ok();
            let at = now_ms();
            let retry_at = (!delivered)
                .then(|| at + retry_delay(self.state.config.webhook_retry_base, head.attempts + 1));
            let error = match (&outcome.error, outcome.status) {
                (Some(error), _) => Some(error.clone()),
                (None, Some(status)) if !delivered => Some(format!("answered {status}")),
                _ => None,
            };
            webhooks::record(
                pool,
                &webhooks::Attempt {
                    endpoint_id: endpoint,
                    head: &head,
                    at,
                    status: outcome.status,
                    error: error.as_deref(),
                    duration_ms: outcome.duration_ms,
                    retry_at,
                },
            )
            .await?;
            if !delivered {
                tracing::info!(
                    webhook = endpoint,
                    message = %id,
                    attempts = head.attempts + 1,
                    error = error.as_deref().unwrap_or_default(),
                    "webhook not delivered; will retry"
                );
                break;
            }
        }
        webhooks::release(pool, endpoint, owner).await
    }
}

/// The wait before try `attempt + 1` (after `attempt` failures): `base`
/// doubled per failure, capped at [`MAX_DELAY`], and a random part of it
/// (between a half and all of it) so that endpoints failing together do
/// not retry together.
pub fn retry_delay(base: Duration, attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 32) as u32 - 1;
    let full = (base.as_millis() as u64)
        .saturating_mul(1u64 << doublings.min(20))
        .min(MAX_DELAY.as_millis() as u64);
    let half = full / 2;
    let mut random = [0u8; 8];
    let spread = match getrandom::getrandom(&mut random) {
        Ok(()) => u64::from_le_bytes(random) % (half + 1),
        Err(_) => half,
    };
    (half + spread) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_up_to_the_cap() {
        let base = Duration::from_secs(5);
        for attempts in 1..=40 {
            let full = (5_000u64 << (attempts - 1).min(20)).min(600_000) as i64;
            let delay = retry_delay(base, attempts);
            assert!(
                (full / 2..=full).contains(&delay),
                "attempt {attempts}: {delay} not within [{}, {full}]",
                full / 2
            );
        }
    }
}
