//! The one periodic loop every background task runs on. A run
//! that overruns delays the next instead of bunching them up.

use std::{future::Future, time::Duration};

pub fn every<F, Fut>(period: Duration, mut run: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        // The first run is one period after the start: at start-up nothing
        // is due yet, and a burst of tasks at once is avoided.
        let start = tokio::time::Instant::now() + period;
        let mut tick = tokio::time::interval_at(start, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run().await;
        }
    })
}
