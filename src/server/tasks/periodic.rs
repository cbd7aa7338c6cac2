//! Background work that runs every so often: one loop for all of it. A run
//! that overruns delays the next instead of bunching them up.

use std::{future::Future, time::Duration};

pub fn every<F, Fut>(period: Duration, mut run: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run().await;
        }
    })
}
