//! Carries text between the tabs of one browser and elects the one tab
//! that leads them (hydrate only). It knows nothing of what the text
//! means: the inbox side decides what to send and what to do with it.
//!
//! Tabs join a BroadcastChannel by name and ask the Web Locks API for a
//! lock of another name; the tab that holds the lock leads. The lock is
//! held until the [`Relay`] is dropped or the tab goes away, then the
//! browser hands it to a waiting tab. Without Web Locks (very old browsers,
//! or a page served over plain http, which is not a secure context) every
//! tab leads.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use js_sys::{Function, Promise, Reflect};
use leptos::prelude::window;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

/// The sending half of a relay: cheap to clone into callbacks.
#[derive(Clone)]
pub struct Tabs {
    channel: Option<BroadcastChannel>,
    leading: Rc<Cell<bool>>,
}

impl Tabs {
    pub fn leading(&self) -> bool {
        self.leading.get()
    }

    /// Sends `text` to every other tab that joined.
    pub fn post(&self, text: &str) {
        if let Some(channel) = &self.channel {
            // Fails only once the relay is closed: nobody to tell then.
            let _ = channel.post_message(&JsValue::from_str(text));
        }
    }

    /// Sends `text` to the other tabs if this tab leads them.
    pub fn share(&self, text: &str) {
        if self.leading() {
            self.post(text);
        }
    }
}

/// This tab's membership. Dropping it leaves the channel and gives up the
/// lead (or a pending request for it).
pub struct Relay {
    tabs: Tabs,
    lock: Rc<Lock>,
    /// Owned here so it is freed with the relay, not leaked.
    _on_message: Option<Closure<dyn Fn(MessageEvent)>>,
}

#[derive(Default)]
struct Lock {
    /// Settles the promise the lock is held by: calling it lets go.
    release: RefCell<Option<Function>>,
    given_up: Cell<bool>,
}

impl Relay {
    /// Joins the tabs of channel `name`. `on_message` gets the text each
    /// other tab posts, with this tab's sending half to answer on.
    pub fn join(name: &str, on_message: impl Fn(&Tabs, String) + 'static) -> Relay {
        let tabs = Tabs {
            channel: BroadcastChannel::new(name).ok(),
            leading: Rc::new(Cell::new(false)),
        };
        let on_message = tabs.channel.as_ref().map(|channel| {
            let answer_on = tabs.clone();
            let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(text) = event.data().as_string() {
                    on_message(&answer_on, text);
                }
            });
            channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
            handler
        });
        Relay {
            tabs,
            lock: Rc::default(),
            _on_message: on_message,
        }
    }

    pub fn tabs(&self) -> Tabs {
        self.tabs.clone()
    }

    /// Asks to lead the tabs that share lock `name`: `on_lead` runs once
    /// this tab holds it, which may be never (another tab keeps it), now,
    /// or when the leading tab closes.
    pub fn request_lead(&self, name: &str, on_lead: impl FnOnce() + 'static) {
        let Some((locks, request)) = web_locks() else {
            self.tabs.leading.set(true);
            on_lead();
            return;
        };
        let (lock, leading) = (self.lock.clone(), self.tabs.leading.clone());
        let on_acquired = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            if lock.given_up.get() {
                // Dropped while waiting: returning settles at once, and the
                // browser hands the lock on.
                return JsValue::UNDEFINED;
            }
            leading.set(true);
            on_lead();
            // Held until this promise settles: when the relay is dropped.
            Promise::new(&mut |resolve, _reject| *lock.release.borrow_mut() = Some(resolve)).into()
        });
        // `request` reports failures through the promise it returns, which
        // nobody waits for: a tab that cannot get the lock follows.
        let _ = request.call2(&locks, &JsValue::from_str(name), &on_acquired);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(channel) = &self.tabs.channel {
            channel.set_onmessage(None);
            channel.close();
        }
        self.tabs.leading.set(false);
        self.lock.given_up.set(true);
        if let Some(release) = self.lock.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

/// `navigator.locks` and its `request`, through `Reflect` because web-sys
/// exposes Web Locks only behind its unstable-API flag.
fn web_locks() -> Option<(JsValue, Function)> {
    let locks = Reflect::get(&window().navigator(), &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into()
        .ok()?;
    Some((locks, request))
}
