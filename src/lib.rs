// The views nest deep enough that the release build computing their
// layouts passes the default query depth (128).
#![recursion_limit = "256"]
//! Herald: a live in-app notification center.
//!
//! `app` and `ui` render on both sides (SSR, then hydration); `api` holds
//! the server functions; `server` exists only in the `ssr` build.

pub mod api;
pub mod app;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
