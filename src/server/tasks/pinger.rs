//! Keep-alives: one server-wide ticker sends the same encoded `ping` to
//! every open stream, instead of a timer per stream. Proxies and browsers
//! see traffic every `HERALD_PING_SECS`, dead connections are found on the
//! next write, and a stream costs no timer.

use std::time::Duration;

use serde_json::json;

use crate::server::{
    delivery::hub::{EventName, Frame, Hub},
    periodic,
    store::{now_ms, rfc3339},
};

pub fn spawn(hub: Hub, period: Duration) -> tokio::task::JoinHandle<()> {
    periodic::every(period, move || {
        let ping = Frame::new(
            &EventName::PING,
            None,
            &json!({ "timestamp": rfc3339(now_ms()) }),
        );
        hub.send_keepalive(&ping);
        std::future::ready(())
    })
}
