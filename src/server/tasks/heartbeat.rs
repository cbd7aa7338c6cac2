//! Every second (PostgreSQL only), this instance writes its open streams
//! to `instances`, so that the numbers an admin sees cover the cluster.

use std::time::Duration;

use crate::server::{state::AppState, store::instances, tasks::periodic};

const PERIOD: Duration = Duration::from_secs(1);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    periodic::every(PERIOD, move || {
        let state = state.clone();
        async move {
            let stats = state.hub.stats();
            let beat = instances::beat(
                &state.pool,
                &state.instance_id,
                stats.total_clients as i64,
                &stats.user_clients,
            );
            if let Err(e) = beat.await {
                tracing::warn!(error = %e, "heartbeat not written; will retry");
            }
        }
    })
}
