//! The bell: an unread badge (server-rendered, then live) and a dropdown of
//! the latest notifications. A real button; Escape closes the dropdown and
//! gives focus back to the bell.

use leptos::{ev, html, prelude::*};

use super::{InboxList, MarkAllReadButton, UnreadCount};
use crate::ui::live::request_desktop_permission;

const DROPDOWN_ITEMS: usize = 5;

#[component]
pub fn Bell() -> impl IntoView {
    let UnreadCount(unread) = expect_context::<UnreadCount>();
    let open = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let label = move || match unread.get() {
        0 => "Notifications, none unread".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    let close_on_escape = move |e: ev::KeyboardEvent| {
        if e.key() == "Escape" && open.get_untracked() {
            open.set(false);
            if let Some(button) = button.get() {
                let _ = button.focus();
            }
        }
    };

    view! {
        <div class="bell-wrap" on:keydown=close_on_escape>
            <button
                node_ref=button
                class="bell"
                data-testid="bell"
                aria-haspopup="true"
                aria-controls="bell-dropdown"
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
                <span
                    class="badge"
                    data-testid="unread-badge"
                    data-count=move || unread.get().to_string()
                >
                    {move || unread.get().to_string()}
                </span>
            </button>
            <Show when=move || open.get()>
                <div
                    id="bell-dropdown"
                    class="dropdown"
                    role="dialog"
                    aria-label="Latest notifications"
                    data-testid="bell-dropdown"
                >
                    <div class="dropdown-head">
                        <strong>"Notifications"</strong>
                        <MarkAllReadButton />
                    </div>
                    <InboxList limit=DROPDOWN_ITEMS testid="bell-list" />
                    <div class="dropdown-foot">
                        <a href="/">"Open inbox"</a>
                        <button class="link" on:click=move |_| request_desktop_permission()>
                            "Desktop alerts"
                        </button>
                    </div>
                </div>
            </Show>
        </div>
    }
}
