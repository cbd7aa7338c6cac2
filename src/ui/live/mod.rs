//! The live half of the inbox: signals fed by the SSE stream.
//!
//! The server renders the inbox from a resource; the [`Overlay`] only holds
//! what changed since (arrivals, read and archived ids), so server and
//! browser render the same first HTML. The unread count always comes from
//! the server (every event carries it), never from counting locally.

mod overlay;
#[cfg(feature = "hydrate")]
mod relay;
#[cfg(feature = "hydrate")]
mod stream;

pub use overlay::Overlay;

use leptos::prelude::*;

use crate::model::{NotificationView, ProgressEvent, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Reconnecting,
    Offline,
}

impl Connection {
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }

    pub fn from_label(label: &str) -> Option<Connection> {
        [
            Connection::Connecting,
            Connection::Live,
            Connection::Reconnecting,
            Connection::Offline,
        ]
        .into_iter()
        .find(|c| c.label() == label)
    }
}

/// A short-lived announcement of one new notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, Copy)]
pub struct LiveInbox {
    pub connection: RwSignal<Connection>,
    /// The unread count carried by the latest event; `None` until one arrives.
    pub unread: RwSignal<Option<i64>>,
    pub overlay: RwSignal<Overlay>,
    pub toasts: RwSignal<Vec<Toast>>,
    /// Critical notifications not yet acknowledged, oldest first.
    pub critical: RwSignal<Vec<NotificationView>>,
    pub progress: RwSignal<Option<ProgressEvent>>,
    /// Bumped when the server asks for a refetch (`resync`).
    pub resyncs: RwSignal<u32>,
    /// Milliseconds since the epoch, ticking in the browser only; `None`
    /// during SSR and hydration so both render absolute times.
    pub now_ms: RwSignal<Option<f64>>,
}

impl LiveInbox {
    pub fn new() -> Self {
        LiveInbox {
            connection: RwSignal::new(Connection::Connecting),
            unread: RwSignal::new(None),
            overlay: RwSignal::new(Overlay::default()),
            toasts: RwSignal::new(Vec::new()),
            critical: RwSignal::new(Vec::new()),
            progress: RwSignal::new(None),
            resyncs: RwSignal::new(0),
            now_ms: RwSignal::new(None),
        }
    }

    /// Forget local changes after the inbox was refetched.
    pub fn reset(&self) {
        self.overlay.set(Overlay::default());
        self.unread.set(None);
    }
}

impl Default for LiveInbox {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts live updates (browser only), resuming after `last_position` so nothing
/// stored between the server render and the connection is missed; the
/// channels' heads at the render start the check for gaps.
pub fn connect(
    live: LiveInbox,
    user_id: i64,
    last_position: i64,
    channels: Vec<crate::model::ChannelHead>,
) {
    #[cfg(feature = "hydrate")]
    stream::start(live, user_id, last_position, channels);
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, user_id, last_position, channels);
}

/// Asks for permission to show system notifications (needs a user gesture).
pub fn request_desktop_permission() {
    #[cfg(feature = "hydrate")]
    stream::request_desktop_permission();
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
