//! Closes streams whose session has ended behind the server's back: expired,
//! or revoked by another process (the `herald user …` CLI, another node).
//! Revocations made inside this process close streams at once; this sweep
//! bounds the delay for the rest to one period.

use std::time::Duration;

use super::{events, hub::Hub, store, store::sessions};

pub fn spawn(pool: store::Pool, hub: Hub, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate
        loop {
            tick.tick().await;
            sweep(&pool, &hub).await;
        }
    })
}

pub async fn sweep(pool: &store::Pool, hub: &Hub) -> usize {
    let open = hub.session_ids();
    if open.is_empty() {
        return 0;
    }
    match sessions::dead_among(pool, &open).await {
        Ok(dead) => {
            let count = dead.len();
            events::publish(
                hub,
                dead.into_iter()
                    .map(|session_id| events::DomainEvent::SessionRevoked { session_id }),
            );
            if count > 0 {
                tracing::info!(sessions = count, "closed streams of ended sessions");
            }
            count
        }
        Err(e) => {
            tracing::warn!(error = %e, "session sweep failed; will retry");
            0
        }
    }
}
