//! Forgets unread counters that lingered `hub::LINGER` past their user's
//! last stream: memory follows the users online (plus a minute), not every
//! user ever seen. Its own step, so that nothing else (the funnel's flush)
//! has to run for memory to be given back.

use std::time::Duration;

use crate::server::{delivery::hub::Hub, periodic};

const PERIOD: Duration = Duration::from_secs(1);

pub fn spawn(hub: Hub) -> tokio::task::JoinHandle<()> {
    periodic::every(PERIOD, move || {
        let evicted = hub.evict_lingering(std::time::Instant::now());
        if evicted > 0 {
            tracing::debug!(evicted, "forgot lingering unread counters");
        }
        std::future::ready(())
    })
}
