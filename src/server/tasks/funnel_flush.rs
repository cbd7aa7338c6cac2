//! The funnel's "delivered", in batches: every [`PERIOD`] the users whose
//! streams were brought further since the last run (live or by a replay)
//! have their watermark advanced in one transaction (`store::funnel`).
//! Publishing writes nothing per user; this costs one transaction per
//! period, O(users advanced), with one range query per distinct window.

use std::time::Duration;

use crate::server::{periodic, state::AppState, store::funnel};

pub const PERIOD: Duration = Duration::from_secs(1);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    periodic::every(PERIOD, move || {
        let state = state.clone();
        async move {
            let advances = state.hub.take_delivered();
            if !advances.is_empty() {
                funnel::record_delivered(&state.pool, &advances).await;
                state.hub.console_changed();
            }
        }
    })
}
