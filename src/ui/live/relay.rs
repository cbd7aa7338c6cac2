//! One stream per browser, however many tabs (HTTP/1.1 allows only six
//! connections per origin, so a seventh tab with its own stream would hang).
//!
//! Tabs of a user ask the Web Locks API for one lock; the tab that holds it
//! (the leader) opens the stream and relays every event on a
//! BroadcastChannel; the others apply the relayed events. The lock is held
//! until the tab goes away, then the browser hands it to a waiting tab,
//! which opens the stream, resuming after the last position it saw.
//! Without Web Locks (very old browsers) every tab simply leads.

use std::cell::{Cell, RefCell};

use js_sys::{Function, Promise, Reflect};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

use super::{
    stream::{apply, Shared},
    LiveInbox,
};

/// Relayed connection state ("live", "reconnecting", …).
pub const STATE_EVENT: &str = "_state";
/// A new follower asking the leader for the current state.
const HELLO_EVENT: &str = "_hello";

#[derive(Serialize, Deserialize)]
struct Relayed {
    event: String,
    data: String,
}

// A browser tab is single-threaded: these are this tab's own relay state.
thread_local! {
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
    static LEADING: Cell<bool> = const { Cell::new(false) };
}

pub fn join(user_id: i64, live: LiveInbox, link: Shared, on_lead: impl FnOnce() + 'static) {
    let channel = BroadcastChannel::new(&format!("herald-{user_id}")).ok();
    if let Some(channel) = &channel {
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(relayed) = event
                .data()
                .as_string()
                .and_then(|s| serde_json::from_str::<Relayed>(&s).ok())
            else {
                return;
            };
            if LEADING.get() {
                if relayed.event == HELLO_EVENT {
                    share(STATE_EVENT, live.connection.get_untracked().label());
                }
            } else {
                apply(live, &link, &relayed.event, &relayed.data);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        CHANNEL.with(|c| *c.borrow_mut() = Some(channel.clone()));
    }
    post(HELLO_EVENT, "");

    let lead = move || {
        LEADING.set(true);
        on_lead();
    };
    if request_lock(&format!("herald-stream-{user_id}"), lead).is_err() {
        // No Web Locks: this tab streams for itself.
        LEADING.set(true);
    }
}

/// Sends an event to the other tabs, if this tab is the one streaming.
pub fn share(event: &str, data: &str) {
    if LEADING.get() {
        post(event, data);
    }
}

fn post(event: &str, data: &str) {
    let message = Relayed {
        event: event.to_string(),
        data: data.to_string(),
    };
    if let Ok(text) = serde_json::to_string(&message) {
        CHANNEL.with(|c| {
            if let Some(channel) = c.borrow().as_ref() {
                let _ = channel.post_message(&JsValue::from_str(&text));
            }
        });
    }
}

/// `navigator.locks.request(name, cb)`, where `cb` runs once the lock is
/// ours and returns a promise that never settles: the lock is held for the
/// life of the tab. Called through `Reflect` because web-sys exposes Web
/// Locks only behind its unstable-API flag.
fn request_lock(name: &str, on_acquired: impl FnOnce() + 'static) -> Result<(), JsValue> {
    let navigator = window().navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks"))?;
    if locks.is_undefined() || locks.is_null() {
        return Err(JsValue::from_str("no Web Locks"));
    }
    let request: Function = Reflect::get(&locks, &JsValue::from_str("request"))?.dyn_into()?;
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        on_acquired();
        Promise::new(&mut |_resolve, _reject| {}).into()
    });
    request.call2(&locks, &JsValue::from_str(name), &callback)?;
    Ok(())
}
