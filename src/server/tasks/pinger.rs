//! Keep-alives: one server-wide ticker sends the same encoded `ping` to
//! every open stream, instead of a timer per stream. Proxies and browsers
//! see traffic every `HERALD_PING_SECS`, dead connections are found on the
//! next write, and a stream costs no timer.

use std::time::Duration;

use crate::server::delivery::{hub::Hub, wire};

pub fn spawn(hub: Hub, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + period;
        let mut tick = tokio::time::interval_at(start, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            hub.send_keepalive(&wire::ping());
        }
    })
}
