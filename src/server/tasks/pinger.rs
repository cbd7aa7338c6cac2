//! Keep-alives: one server-wide ticker sends the same encoded `ping` to
//! every open stream, instead of a timer per stream. Proxies and browsers
//! see traffic every `HERALD_PING_SECS`, dead connections are found on the
//! next write, and a stream costs no timer.

use std::time::Duration;

use crate::server::{
    delivery::{hub::Hub, wire},
    periodic,
};

pub fn spawn(hub: Hub, period: Duration) -> tokio::task::JoinHandle<()> {
    periodic::every(period, move || {
        hub.send_keepalive(&wire::ping());
        std::future::ready(())
    })
}
