//! Sends scheduled announcements when they come due and removes expired
//! ones. The schedule lives in the database, so it survives restarts: a
//! server that was down at `send_at` sends on its first tick back.

use std::time::Duration;

use crate::server::{periodic, state::AppState, usecases::schedule};

pub fn spawn(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    periodic::every(period, move || {
        let state = state.clone();
        async move {
            match schedule::run(&state).await {
                Ok((0, 0)) => {}
                Ok((sent, expired)) => tracing::info!(sent, expired, "schedule ran"),
                Err(e) => tracing::warn!(error = %e, "schedule run failed; will retry"),
            }
        }
    })
}
