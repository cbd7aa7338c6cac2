//! The browser's end of `/sse/stream`, wired to the inbox (hydrate only).
//!
//! One stream per browser, however many tabs (HTTP/1.1 allows only six
//! connections per origin, so a seventh tab with its own stream would
//! hang): the tab that leads the [`Relay`] opens the stream and passes
//! every event on; the others apply what it passes on, and one of them
//! takes over, resuming after the last position it saw, when the leader goes.
//!
//! The built-in EventSource retry is replaced by our own: on an error the
//! source is closed and reopened after an exponential backoff with jitter,
//! resuming with `?last_event_id=` so missed notifications are replayed
//! once. The browser's `offline`/`online` events pause and resume it.
//!
//! Every callback is made once per [`Session`] and holds the stream weakly;
//! a reconnect reuses them, and dropping the session closes the stream,
//! unhooks them and frees them.

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{EventSource, MessageEvent};

use super::{
    browser::{desktop_notification, Clock},
    relay::{Relay, Tabs},
    signals::LiveInbox,
};
use crate::{
    model::EventName,
    model::{ChannelHead, NotificationView},
    ui::inbox::{names_to_listen, Connection, Cursor, Event, TabMessage, STREAMED_EVENTS},
};

/// The most custom event names one page listens to; past it, a
/// notification under a new name is found by the gap check (a refetch).
const MAX_CUSTOM_NAMES: usize = 256;

const BACKOFF_BASE_MS: f64 = 1_000.0;
const BACKOFF_MAX_MS: f64 = 30_000.0;
const TOAST_MS: u64 = 6_000;

/// This tab's live updates: a member of the user's tabs, and the stream
/// while it leads them.
pub struct Session {
    stream: Rc<Stream>,
    _relay: Relay,
    _clock: Clock,
}

impl Session {
    /// Starts following the tab that holds the user's stream, and takes
    /// the stream over when this tab is given the lead.
    pub fn start(
        live: LiveInbox,
        user_id: i64,
        last_position: i64,
        channels: Vec<ChannelHead>,
    ) -> Self {
        live.follow_from(Cursor::new(last_position, channels));
        let relay = Relay::join(&format!("herald-{user_id}"), move |tabs, text| {
            on_tab_message(live, tabs, &text)
        });
        let stream = Stream::new(live, relay.tabs());
        relay.tabs().post(&TabMessage::Hello.encode());
        let leader = Rc::downgrade(&stream);
        relay.request_lead(&format!("herald-stream-{user_id}"), move || {
            if let Some(stream) = leader.upgrade() {
                stream.lead();
            }
        });
        Session {
            stream,
            _relay: relay,
            _clock: Clock::start(live.now_ms),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stream.stop();
    }
}

/// What another tab said: the leader answers a newcomer with the stream's
/// state; a follower applies what the leader passes on.
fn on_tab_message(live: LiveInbox, tabs: &Tabs, text: &str) {
    match TabMessage::decode(text) {
        Some(TabMessage::Hello) if tabs.leading() => {
            tabs.post(&TabMessage::state(live.connection.get_untracked()).encode())
        }
        Some(TabMessage::Event { name, data }) if !tabs.leading() => take_in(live, &name, &data),
        _ => {}
    }
}

/// Applies one event, from this tab's stream or passed on by the leader.
fn take_in(live: LiveInbox, name: &str, data: &str) {
    if let Some(event) = Event::parse(name, data) {
        if let Some(arrived) = live.apply(event) {
            announce(live, arrived);
        }
    }
}

fn announce(live: LiveInbox, n: NotificationView) {
    let id = n.id;
    set_timeout(
        move || live.expire_toast(id),
        std::time::Duration::from_millis(TOAST_MS),
    );
    if live.wants_desktop(&n) {
        desktop_notification(&n.title, &n.body);
    }
}

struct Stream {
    live: LiveInbox,
    tabs: Tabs,
    source: RefCell<Option<EventSource>>,
    attempt: Cell<u32>,
    retry_timer: Cell<Option<i32>>,
    callbacks: Callbacks,
    /// Itself, weakly: for the callbacks made after it was built.
    me: Weak<Stream>,
}

type EventHandler = Closure<dyn Fn(MessageEvent)>;

/// The stream's callbacks, made once: closures given to JS must outlive
/// every call, and making them per connection would leak a set per
/// reconnect. Custom event names get theirs as the server names them,
/// one per name for the session's life (capped).
struct Callbacks {
    events: Vec<(&'static str, EventHandler)>,
    custom: RefCell<Vec<(String, EventHandler)>>,
    on_error: Closure<dyn Fn()>,
    retry: Closure<dyn Fn()>,
    online: Closure<dyn Fn()>,
    offline: Closure<dyn Fn()>,
}

/// Runs `f` on the stream unless its session is gone.
fn if_alive(stream: &Weak<Stream>, f: impl FnOnce(&Stream)) {
    if let Some(stream) = stream.upgrade() {
        f(&stream);
    }
}

/// Hands an event of `name` to the stream, while it is alive.
fn handler_for(stream: &Weak<Stream>, name: String) -> EventHandler {
    let stream = stream.clone();
    EventHandler::new(move |event: MessageEvent| {
        if let Some(data) = event.data().as_string() {
            if_alive(&stream, |s| s.on_event(&name, &data));
        }
    })
}

impl Callbacks {
    fn new(stream: &Weak<Stream>) -> Self {
        let call = |f: fn(&Stream)| {
            let stream = stream.clone();
            Closure::<dyn Fn()>::new(move || if_alive(&stream, f))
        };
        let events = STREAMED_EVENTS
            .into_iter()
            .chain([EventName::EVENT_NAMES.as_str()])
            .map(|name| (name, handler_for(stream, name.to_string())))
            .collect();
        Callbacks {
            events,
            custom: RefCell::new(Vec::new()),
            on_error: call(Stream::on_error),
            retry: call(Stream::on_retry),
            online: call(Stream::on_online),
            offline: call(Stream::on_offline),
        }
    }
}

impl Stream {
    fn new(live: LiveInbox, tabs: Tabs) -> Rc<Self> {
        Rc::new_cyclic(|me| Stream {
            live,
            tabs,
            source: RefCell::new(None),
            attempt: Cell::new(0),
            retry_timer: Cell::new(None),
            callbacks: Callbacks::new(me),
            me: me.clone(),
        })
    }

    /// This tab now holds the stream for the whole browser.
    fn lead(&self) {
        let w = window();
        let cb = &self.callbacks;
        let _ = w.add_event_listener_with_callback("offline", cb.offline.as_ref().unchecked_ref());
        let _ = w.add_event_listener_with_callback("online", cb.online.as_ref().unchecked_ref());
        if online() {
            self.open();
        } else {
            self.set_connection(Connection::Offline);
        }
    }

    /// Closes everything this stream opened; its callbacks are not called
    /// again.
    fn stop(&self) {
        self.close();
        self.cancel_retry();
        let w = window();
        let cb = &self.callbacks;
        let _ =
            w.remove_event_listener_with_callback("offline", cb.offline.as_ref().unchecked_ref());
        let _ = w.remove_event_listener_with_callback("online", cb.online.as_ref().unchecked_ref());
    }

    fn open(&self) {
        self.close();
        // `page=1`: the page's own events too (custom event names before
        // their first use; `console.changed` for admins).
        let url = format!(
            "/sse/stream?last_event_id={}&page=1",
            self.live.last_position()
        );
        let Ok(source) = EventSource::new(&url) else {
            self.schedule_retry();
            return;
        };
        for (name, handler) in &self.callbacks.events {
            let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
        }
        for (name, handler) in self.callbacks.custom.borrow().iter() {
            let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
        }
        source.set_onerror(Some(self.callbacks.on_error.as_ref().unchecked_ref()));
        *self.source.borrow_mut() = Some(source);
    }

    /// Listens to a custom event name from now on, on this source and
    /// every one reopened later.
    fn listen_to(&self, name: String) {
        let mut custom = self.callbacks.custom.borrow_mut();
        if custom.len() >= MAX_CUSTOM_NAMES || custom.iter().any(|(known, _)| *known == name) {
            return;
        }
        let handler = handler_for(&self.me, name.clone());
        if let Some(source) = self.source.borrow().as_ref() {
            let _ =
                source.add_event_listener_with_callback(&name, handler.as_ref().unchecked_ref());
        }
        custom.push((name, handler));
    }

    fn close(&self) {
        if let Some(source) = self.source.borrow_mut().take() {
            source.close();
        }
    }

    fn on_event(&self, name: &str, data: &str) {
        if name == "connected" {
            self.attempt.set(0);
        }
        // Before the next event is dispatched: it may come under one of them.
        for custom in names_to_listen(name, data) {
            self.listen_to(custom);
        }
        take_in(self.live, name, data);
        self.tabs.share(&TabMessage::event(name, data).encode());
    }

    fn on_error(&self) {
        self.close();
        self.schedule_retry();
    }

    /// Reopens after `base · 2^attempt`, capped, with jitter (half to full
    /// delay) so many clients do not return in lockstep.
    fn schedule_retry(&self) {
        if !online() {
            self.set_connection(Connection::Offline);
            return;
        }
        self.set_connection(Connection::Reconnecting);
        let attempt = self.attempt.get().saturating_add(1);
        self.attempt.set(attempt);
        let ceiling = (BACKOFF_BASE_MS * 2f64.powi(attempt as i32 - 1)).min(BACKOFF_MAX_MS);
        let delay = ceiling * (0.5 + js_sys::Math::random() * 0.5);
        let timer = window().set_timeout_with_callback_and_timeout_and_arguments_0(
            self.callbacks.retry.as_ref().unchecked_ref(),
            delay as i32,
        );
        self.retry_timer.set(timer.ok());
    }

    fn cancel_retry(&self) {
        if let Some(timer) = self.retry_timer.take() {
            window().clear_timeout_with_handle(timer);
        }
    }

    fn on_retry(&self) {
        self.retry_timer.set(None);
        self.open();
    }

    fn on_offline(&self) {
        self.close();
        self.cancel_retry();
        self.set_connection(Connection::Offline);
    }

    fn on_online(&self) {
        if self.source.borrow().is_some() {
            return;
        }
        self.cancel_retry();
        self.attempt.set(0);
        self.set_connection(Connection::Reconnecting);
        self.open();
    }

    /// Shows the state here and in every tab that follows this one.
    fn set_connection(&self, state: Connection) {
        self.live.set_connection(state);
        self.tabs.share(&TabMessage::state(state).encode());
    }
}

fn online() -> bool {
    window().navigator().on_line()
}
