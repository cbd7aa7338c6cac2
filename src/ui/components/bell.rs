//! The bell: an unread badge (server-rendered, then live) and a dropdown of
//! the latest notifications.

use leptos::prelude::*;

use super::{InboxList, InboxResource};
use crate::ui::live::LiveInbox;

const DROPDOWN_ITEMS: usize = 5;

#[component]
pub fn Bell() -> impl IntoView {
    let inbox = expect_context::<InboxResource>();
    let live = expect_context::<LiveInbox>();
    let open = RwSignal::new(false);

    // The count always comes from the server: the newest event's, else the render's.
    let unread = move || {
        live.unread.get().unwrap_or_else(|| {
            inbox
                .get()
                .and_then(Result::ok)
                .map(|page| page.unread)
                .unwrap_or(0)
        })
    };
    let label = move || match unread() {
        0 => "Notifications, none unread".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };

    view! {
        <div class="bell-wrap">
            <button
                class="bell"
                data-testid="bell"
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-label=label
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                    <path
                        fill="currentColor"
                        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
                    />
                </svg>
                <span class="badge" data-testid="unread-badge" data-count=move || unread().to_string()>
                    {move || unread().to_string()}
                </span>
            </button>
            <Show when=move || open.get()>
                <div class="dropdown" role="dialog" aria-label="Latest notifications">
                    <InboxList limit=DROPDOWN_ITEMS testid="bell-list" />
                    <a class="all" href="/">"Open inbox"</a>
                </div>
            </Show>
        </div>
    }
}
