//! Every second this instance writes its open streams to `instances`, so
//! that the numbers an admin sees (`Backplane::elsewhere`) cover the cluster.

use std::{sync::Arc, time::Duration};

use super::SharedLog;
use crate::server::{periodic, store::instances};

const PERIOD: Duration = Duration::from_secs(1);

pub fn spawn(log: Arc<SharedLog>) -> tokio::task::JoinHandle<()> {
    periodic::every(PERIOD, move || {
        let log = log.clone();
        async move {
            let stats = log.hub.stats();
            let beat = instances::beat(
                &log.pool,
                &log.instance_id,
                stats.total_clients as i64,
                &stats.user_clients,
            );
            if let Err(e) = beat.await {
                tracing::warn!(error = %e, "heartbeat not written; will retry");
            }
        }
    })
}
