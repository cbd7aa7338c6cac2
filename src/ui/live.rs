//! The live half of the inbox: signals fed by the SSE stream.
//!
//! The server renders the inbox from a resource; these signals only hold
//! what changed since (new arrivals, the latest unread count the server
//! pushed), so server and browser render the same first HTML and the count
//! always comes from the server, never from counting locally.

use leptos::prelude::*;

use crate::model::NotificationView;

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
}

#[derive(Debug, Clone, Copy)]
pub struct LiveInbox {
    pub connection: RwSignal<Connection>,
    /// The unread count carried by the latest event; `None` until one arrives.
    pub unread: RwSignal<Option<i64>>,
    /// Notifications received since the page loaded, newest first.
    pub arrived: RwSignal<Vec<NotificationView>>,
    /// Bumped when the server asks for a refetch (`resync`).
    pub resyncs: RwSignal<u32>,
}

impl LiveInbox {
    pub fn new() -> Self {
        LiveInbox {
            connection: RwSignal::new(Connection::Connecting),
            unread: RwSignal::new(None),
            arrived: RwSignal::new(Vec::new()),
            resyncs: RwSignal::new(0),
        }
    }

    /// The server-rendered items with live arrivals on top, without repeats.
    pub fn merged(&self, rendered: &[NotificationView], limit: usize) -> Vec<NotificationView> {
        let arrived = self.arrived.get();
        let mut seen = std::collections::HashSet::new();
        arrived
            .iter()
            .chain(rendered.iter())
            .filter(|n| seen.insert(n.id))
            .take(limit)
            .cloned()
            .collect()
    }
}

impl Default for LiveInbox {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens the stream once (browser only), resuming after `last_seq` so nothing
/// stored between the server render and the connection is missed.
#[cfg(feature = "hydrate")]
pub fn connect(live: LiveInbox, last_seq: i64) {
    use crate::model::{ConnectedEvent, NotificationEvent};
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    let url = format!("/sse/stream?last_event_id={last_seq}");
    let Ok(source) = EventSource::new(&url) else {
        live.connection.set(Connection::Offline);
        return;
    };

    fn data<T: serde::de::DeserializeOwned>(event: &MessageEvent) -> Option<T> {
        serde_json::from_str(&event.data().as_string()?).ok()
    }
    // The listeners live as long as the page, like the stream itself.
    let listen = |name: &str, handler: Box<dyn Fn(MessageEvent)>| {
        let closure = Closure::<dyn Fn(MessageEvent)>::wrap(handler);
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        closure.forget();
    };

    listen(
        "connected",
        Box::new(move |event| {
            live.connection.set(Connection::Live);
            if let Some(c) = data::<ConnectedEvent>(&event) {
                live.unread.set(Some(c.unread));
            }
        }),
    );
    listen(
        "notification",
        Box::new(move |event| {
            if let Some(n) = data::<NotificationEvent>(&event) {
                live.unread.set(Some(n.unread));
                live.arrived.update(|list| {
                    if !list.iter().any(|x| x.id == n.notification.id) {
                        list.insert(0, n.notification);
                    }
                });
            }
        }),
    );
    listen(
        "resync",
        Box::new(move |_| {
            live.resyncs.update(|n| *n += 1);
        }),
    );

    let on_error = {
        let source = source.clone();
        Closure::<dyn Fn()>::new(move || {
            // CONNECTING means the browser is retrying by itself; CLOSED means it gave up.
            let state = if source.ready_state() == EventSource::CLOSED {
                Connection::Offline
            } else {
                Connection::Reconnecting
            };
            live.connection.set(state);
        })
    };
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
}

#[cfg(not(feature = "hydrate"))]
pub fn connect(_live: LiveInbox, _last_seq: i64) {}
