//! Small browser services for the live inbox (hydrate only): the clock for
//! relative times and system notifications.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};

const CLOCK_TICK_MS: i32 = 30_000;

/// Sets `now_ms` to the time now and every half minute; stops when dropped.
pub struct Clock {
    interval: Option<i32>,
    _tick: Closure<dyn Fn()>,
}

impl Clock {
    pub fn start(now_ms: RwSignal<Option<f64>>) -> Self {
        now_ms.set(Some(js_sys::Date::now()));
        let tick = Closure::<dyn Fn()>::new(move || now_ms.set(Some(js_sys::Date::now())));
        let interval = window()
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                CLOCK_TICK_MS,
            )
            .ok();
        Clock {
            interval,
            _tick: tick,
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if let Some(interval) = self.interval {
            window().clear_interval_with_handle(interval);
        }
    }
}

/// A system notification, only when the tab is hidden and the user allowed it.
pub fn desktop_notification(title: &str, body: &str) {
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
