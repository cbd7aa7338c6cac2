//! Brings snoozed notifications back when they come due, on the
//! scheduler's tick. An idle tick costs one indexed probe, no turn.

use std::time::Duration;

use crate::server::{periodic, state::AppState, usecases::snooze};

pub fn spawn(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    periodic::every(period, move || {
        let state = state.clone();
        async move {
            match snooze::return_due(&state).await {
                Ok(0) => {}
                Ok(returned) => tracing::info!(returned, "snoozes came back"),
                Err(e) => tracing::warn!(error = %e, "snooze returns failed; will retry"),
            }
        }
    })
}
