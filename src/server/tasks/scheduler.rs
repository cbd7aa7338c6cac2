//! Sends scheduled announcements when they come due and removes expired
//! ones. The schedule lives in the database, so it survives restarts: a
//! server that was down at `send_at` sends on its first tick back.

use std::time::Duration;

use crate::server::{state::AppState, usecases::schedule};

pub fn spawn(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match schedule::run(&state).await {
                Ok((0, 0)) => {}
                Ok((sent, expired)) => tracing::info!(sent, expired, "schedule ran"),
                Err(e) => tracing::warn!(error = %e, "schedule run failed; will retry"),
            }
        }
    })
}
