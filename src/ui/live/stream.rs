//! The browser's end of `/sse/stream` (hydrate only).
//!
//! The built-in EventSource retry is replaced by our own: on an error the
//! source is closed and reopened after an exponential backoff with jitter,
//! resuming with `?last_event_id=` so missed notifications are replayed
//! once. The browser's `offline`/`online` events pause and resume it.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{EventSource, MessageEvent};

use super::{relay, Connection, LiveInbox, Toast};
use crate::model::{
    Channel, ChannelHead, ConnectedEvent, NotificationEvent, ProgressEvent, ReadEvent,
    RemovedEvent, Severity, WithUnread,
};

const BACKOFF_BASE_MS: f64 = 1_000.0;
const BACKOFF_MAX_MS: f64 = 30_000.0;
const TOAST_MS: i32 = 6_000;
const CLOCK_TICK_MS: i32 = 30_000;

pub(super) struct Link {
    source: Option<EventSource>,
    /// Highest log position received: where a reconnect resumes.
    last_position: i64,
    /// Last offset seen per channel: offsets are consecutive per channel,
    /// so a jump means this tab missed something.
    offsets: HashMap<Channel, i64>,
    attempt: u32,
    retry_timer: Option<i32>,
}

pub(super) type Shared = Rc<RefCell<Link>>;

/// Starts this tab's live updates: it follows the tab that holds the
/// user's stream, and takes the stream over when it is the only one left.
pub fn start(live: LiveInbox, user_id: i64, last_position: i64, channels: Vec<ChannelHead>) {
    let link: Shared = Rc::new(RefCell::new(Link {
        source: None,
        last_position,
        offsets: channels.into_iter().map(|c| (c.ch, c.off)).collect(),
        attempt: 0,
        retry_timer: None,
    }));
    start_clock(live);
    let on_lead = {
        let link = link.clone();
        move || lead(live, link.clone())
    };
    relay::join(user_id, live, link, on_lead);
}

/// This tab now holds the stream for the whole browser.
fn lead(live: LiveInbox, link: Shared) {
    watch_network(live, link.clone());
    if online() {
        open(live, link);
    } else {
        set_connection(live, Connection::Offline);
    }
}

fn open(live: LiveInbox, link: Shared) {
    let url = format!("/sse/stream?last_event_id={}", link.borrow().last_position);
    let Ok(source) = EventSource::new(&url) else {
        schedule_retry(live, link);
        return;
    };
    for name in EVENT_NAMES {
        let link = link.clone();
        let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(data) = event.data().as_string() else {
                return;
            };
            if name == "connected" {
                link.borrow_mut().attempt = 0;
            }
            apply(live, &link, name, &data);
            relay::share(name, &data);
        });
        let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
        // Listeners live as long as their source; a source is replaced only
        // on reconnect, so what leaks is a few closures per reconnect.
        handler.forget();
    }

    let on_error = {
        let link = link.clone();
        Closure::<dyn Fn()>::new(move || {
            if let Some(source) = link.borrow_mut().source.take() {
                source.close();
            }
            schedule_retry(live, link.clone());
        })
    };
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    link.borrow_mut().source = Some(source);
}

/// The events a tab understands; the leader relays exactly these.
const EVENT_NAMES: [&str; 6] = [
    "connected",
    "notification",
    "notification.read",
    "notification.removed",
    "progress",
    "resync",
];

/// Applies one event to this tab's state, whether it came from this tab's
/// own stream or was relayed by the tab that holds the stream.
pub(super) fn apply(live: LiveInbox, link: &Shared, name: &str, data: &str) {
    fn parse<T: serde::de::DeserializeOwned>(data: &str) -> Option<T> {
        serde_json::from_str(data).ok()
    }
    match name {
        "connected" => {
            set_connection(live, Connection::Live);
            if let Some(c) = parse::<ConnectedEvent>(data) {
                live.unread.set(Some(c.unread));
            }
        }
        "notification" => {
            if let Some(n) = parse::<NotificationEvent>(data) {
                let entry = &n.event;
                let followed =
                    link.borrow_mut()
                        .follow(entry.notification.position, entry.ch, entry.off);
                let Some(gap) = followed else {
                    return; // rendered or seen already: never shown twice
                };
                if gap {
                    live.resyncs.update(|r| *r += 1);
                }
                on_notification(live, n);
            }
        }
        "notification.read" => {
            if let Some(read) = parse::<ReadEvent>(data) {
                live.unread.set(Some(read.unread));
                live.overlay.update(|o| o.apply_read(&read));
                live.critical.update(|list| {
                    list.retain(|n| {
                        !read.ids.contains(&n.id)
                            && read.up_to_position.is_none_or(|p| n.position > p)
                    })
                });
            }
        }
        "notification.removed" => {
            if let Some(WithUnread { event, unread }) = parse::<RemovedEvent>(data) {
                let followed = link
                    .borrow_mut()
                    .follow(event.position, event.ch, event.off);
                let Some(gap) = followed else {
                    return;
                };
                if gap {
                    live.resyncs.update(|r| *r += 1);
                }
                // Gone from the inbox, like an archived one.
                let removed = ReadEvent::archived(event.ids, unread);
                live.unread.set(Some(removed.unread));
                live.overlay.update(|o| o.apply_read(&removed));
                live.critical
                    .update(|list| list.retain(|n| !removed.ids.contains(&n.id)));
                live.toasts
                    .update(|list| list.retain(|t| !removed.ids.contains(&t.id)));
            }
        }
        "progress" => {
            if let Some(p) = parse::<ProgressEvent>(data) {
                live.progress.set(Some(p));
            }
        }
        "resync" => live.resyncs.update(|n| *n += 1),
        relay::STATE_EVENT => {
            if let Some(state) = Connection::from_label(data) {
                live.connection.set(state);
            }
        }
        _ => {}
    }
}

impl Link {
    /// Takes in a stored event at `position`, offset `off` of channel `ch`:
    /// `None` when it was seen already, else whether it reveals a gap. A
    /// jump in the channel's offsets means this tab missed something (e.g.
    /// it joined between render and relay), and it refetches. A channel it
    /// has not seen yet is adopted.
    fn follow(&mut self, position: i64, ch: Channel, off: i64) -> Option<bool> {
        if position <= self.last_position {
            return None;
        }
        self.last_position = position;
        let gap = self.offsets.get(&ch).is_some_and(|last| off != last + 1);
        self.offsets.insert(ch, off);
        Some(gap)
    }
}

/// Shows the state here and in every tab that follows this one.
fn set_connection(live: LiveInbox, state: Connection) {
    live.connection.set(state);
    relay::share(relay::STATE_EVENT, state.label());
}

fn on_notification(live: LiveInbox, event: NotificationEvent) {
    live.unread.set(Some(event.unread));
    let n = event.event.notification;
    let mut is_new = false;
    live.overlay.update(|o| is_new = o.add(n.clone()));
    if !is_new {
        return;
    }
    if n.severity == Severity::Critical && !n.read {
        live.critical.update(|list| list.push(n.clone()));
    }
    let toast = Toast {
        id: n.id,
        title: n.title.clone(),
        severity: n.severity,
    };
    live.toasts.update(|list| list.push(toast));
    set_timeout(
        move || live.toasts.update(|list| list.retain(|t| t.id != n.id)),
        std::time::Duration::from_millis(TOAST_MS as u64),
    );
    desktop_notification(&n.title, &n.body);
}

/// Closes the stream and reopens it after `base · 2^attempt`, capped, with
/// jitter (half to full delay) so many clients do not return in lockstep.
fn schedule_retry(live: LiveInbox, link: Shared) {
    if !online() {
        set_connection(live, Connection::Offline);
        return;
    }
    set_connection(live, Connection::Reconnecting);
    let attempt = {
        let mut state = link.borrow_mut();
        state.attempt = state.attempt.saturating_add(1);
        state.attempt
    };
    let ceiling = (BACKOFF_BASE_MS * 2f64.powi(attempt as i32 - 1)).min(BACKOFF_MAX_MS);
    let delay = ceiling * (0.5 + js_sys::Math::random() * 0.5);
    let retry = {
        let link = link.clone();
        Closure::once_into_js(move || {
            link.borrow_mut().retry_timer = None;
            open(live, link);
        })
    };
    if let Ok(handle) = window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay as i32)
    {
        link.borrow_mut().retry_timer = Some(handle);
    }
}

fn watch_network(live: LiveInbox, link: Shared) {
    let on_offline = {
        let link = link.clone();
        Closure::<dyn Fn()>::new(move || {
            let mut state = link.borrow_mut();
            if let Some(source) = state.source.take() {
                source.close();
            }
            if let Some(timer) = state.retry_timer.take() {
                window().clear_timeout_with_handle(timer);
            }
            set_connection(live, Connection::Offline);
        })
    };
    let on_online = Closure::<dyn Fn()>::new(move || {
        let mut state = link.borrow_mut();
        if state.source.is_some() {
            return;
        }
        if let Some(timer) = state.retry_timer.take() {
            window().clear_timeout_with_handle(timer);
        }
        state.attempt = 0;
        drop(state);
        set_connection(live, Connection::Reconnecting);
        open(live, link.clone());
    });
    let w = window();
    let _ = w.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    on_offline.forget();
    on_online.forget();
}

fn start_clock(live: LiveInbox) {
    live.now_ms.set(Some(js_sys::Date::now()));
    let tick = Closure::<dyn Fn()>::new(move || live.now_ms.set(Some(js_sys::Date::now())));
    let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        CLOCK_TICK_MS,
    );
    tick.forget();
}

fn online() -> bool {
    window().navigator().on_line()
}

/// A system notification, only when the tab is hidden and the user allowed it.
fn desktop_notification(title: &str, body: &str) {
    use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};
    let hidden = document().visibility_state() == VisibilityState::Hidden;
    if !hidden || Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    let _ = Notification::new_with_options(title, &options);
}

/// Asks the browser for permission to show system notifications.
pub fn request_desktop_permission() {
    let _ = web_sys::Notification::request_permission();
}
