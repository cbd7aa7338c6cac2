//! Toasts for new notifications (polite) and a sticky banner for critical
//! ones until acknowledged (assertive).

use leptos::prelude::*;

use super::layout::InboxActions;
use crate::{api::inbox::MarkRead, ui::live::LiveInbox};

#[component]
pub fn AttentionArea() -> impl IntoView {
    let live = expect_context::<LiveInbox>();
    let actions = expect_context::<InboxActions>();
    let acknowledge = move |id: i64| {
        live.acknowledge(id);
        actions.mark_read.dispatch(MarkRead { id });
    };
    view! {
        <div class="banners" role="alert" aria-live="assertive">
            <For each=move || live.critical.get() key=|n| n.id let:n>
                <div class="banner" data-testid="critical-banner">
                    <strong>{n.title.clone()}</strong>
                    <span class="banner-body">{n.body.clone()}</span>
                    <button class="ack" on:click=move |_| acknowledge(n.id)>"Acknowledge"</button>
                </div>
            </For>
        </div>
        <div class="toasts" aria-live="polite" aria-atomic="false">
            <For each=move || live.toasts.get() key=|t| t.id let:t>
                <div class=format!("toast sev-{}", t.severity.as_str()) data-testid="toast">
                    {t.title}
                </div>
            </For>
        </div>
    }
}
