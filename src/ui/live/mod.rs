//! The live half of the inbox: the [`crate::ui::inbox`] state in signals,
//! fed by the SSE stream that one tab per browser holds for all of them.

#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "hydrate")]
pub mod push;
#[cfg(feature = "hydrate")]
mod relay;
mod signals;
#[cfg(feature = "hydrate")]
mod stream;

pub use signals::LiveInbox;

#[cfg(feature = "hydrate")]
use leptos::prelude::{LocalStorage, SetValue, StoredValue, WithValue};

use crate::model::ChannelHead;

/// This tab's live updates, owned by the component that made it: when
/// that component goes, the stream closes, the lead passes to another tab
/// and every callback is freed.
#[derive(Clone, Copy)]
pub struct LiveStream {
    #[cfg(feature = "hydrate")]
    session: StoredValue<Option<stream::Session>, LocalStorage>,
}

impl LiveStream {
    pub fn new() -> Self {
        LiveStream {
            #[cfg(feature = "hydrate")]
            session: StoredValue::new_local(None),
        }
    }

    /// Starts live updates (browser only, once), resuming after `last_position`
    /// so nothing stored between the server render and the connection is
    /// missed; the channels' heads at the render start the check for gaps.
    pub fn connect(
        &self,
        live: LiveInbox,
        user_id: i64,
        last_position: i64,
        channels: Vec<ChannelHead>,
    ) {
        // Started outside the stored value's lock: starting touches signals,
        // which live in the same arena.
        #[cfg(feature = "hydrate")]
        if self.session.with_value(Option::is_none) {
            let session = stream::Session::start(live, user_id, last_position, channels);
            self.session.set_value(Some(session));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (live, user_id, last_position, channels);
    }
}

impl Default for LiveStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Asks for permission to show system notifications (needs a user gesture).
pub fn request_desktop_permission() {
    #[cfg(feature = "hydrate")]
    browser::request_desktop_permission();
}

/// "just now", "5 min ago", "3 h ago", else the date: relative to `now_ms`.
pub fn relative_time(created_ms: f64, now_ms: f64, absolute: &str) -> String {
    let secs = ((now_ms - created_ms) / 1000.0).max(0.0);
    match secs {
        s if s < 45.0 => "just now".into(),
        s if s < 3600.0 => format!("{} min ago", ((s / 60.0).round() as i64).max(1)),
        s if s < 86_400.0 => format!("{} h ago", (s / 3600.0).round() as i64),
        _ => absolute.get(..10).unwrap_or(absolute).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::relative_time;

    #[test]
    fn relative_times() {
        let now = 1_000_000_000.0;
        assert_eq!(relative_time(now - 10_000.0, now, "x"), "just now");
        assert_eq!(relative_time(now - 5.0 * 60_000.0, now, "x"), "5 min ago");
        assert_eq!(relative_time(now - 3.0 * 3_600_000.0, now, "x"), "3 h ago");
        assert_eq!(
            relative_time(now - 5.0 * 86_400_000.0, now, "2026-11-21T06:08:29Z"),
            "2026-11-21"
        );
    }
}
