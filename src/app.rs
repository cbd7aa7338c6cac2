//! The HTML shell, the root component and the routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

use crate::ui::pages::{AdminPage, HomePage, LoginPage, NotFound, PreferencesPage};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // The bundle's names carry a content hash in a release build
                // (Cargo.toml: hash-files), read from the build's hash file.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Herald" />
        <Router>
            // Async SSR: pages arrive complete, so they read fine without JS.
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async />
                <Route path=StaticSegment("preferences") view=PreferencesPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
