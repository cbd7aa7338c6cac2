//! The frame of every signed-in page: loads the user and the inbox, owns the
//! live signals, starts the stream once the page is hydrated.

use leptos::prelude::*;

use super::Header;
use crate::{
    api::{auth::current_user, inbox::get_inbox},
    model::{AppError, InboxPage, UserView},
    ui::live::{connect, LiveInbox},
};

pub type InboxResource = Resource<Result<InboxPage, AppError>>;
pub type UserResource = Resource<Result<Option<UserView>, AppError>>;

#[component]
pub fn SignedInLayout(children: Children) -> impl IntoView {
    let user: UserResource = Resource::new(|| (), |_| current_user());
    let inbox: InboxResource = Resource::new(|| (), |_| get_inbox());
    let live = LiveInbox::new();
    provide_context(user);
    provide_context(inbox);
    provide_context(live);

    // Effects only run in the browser: the stream starts after hydration,
    // resuming after the newest notification the server rendered.
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(Ok(page)) = inbox.get() {
            if !started.get_value() {
                started.set_value(true);
                connect(live, page.last_seq);
            }
        }
    });
    // The server said this client missed events: refetch, drop local state.
    Effect::new(move |previous: Option<u32>| {
        let now = live.resyncs.get();
        if previous.is_some_and(|p| p != now) {
            live.arrived.set(Vec::new());
            live.unread.set(None);
            inbox.refetch();
        }
        now
    });

    view! {
        <Header />
        <main class="page">{children()}</main>
    }
}
