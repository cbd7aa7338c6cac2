//! A list of notifications: what the server rendered plus live arrivals.

use leptos::prelude::*;

use super::InboxResource;
use crate::{model::NotificationView, ui::live::LiveInbox};

#[component]
pub fn InboxList(limit: usize, #[prop(into)] testid: String) -> impl IntoView {
    let inbox = expect_context::<InboxResource>();
    let live = expect_context::<LiveInbox>();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new({
                let testid = testid.clone();
                async move {
                    match inbox.await {
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(page) => {
                            let rendered = StoredValue::new(page.items);
                            let items = move || rendered.with_value(|r| live.merged(r, limit));
                            view! {
                                <Show
                                    when=move || !items().is_empty()
                                    fallback=|| view! { <p class="empty" data-testid="inbox-empty">"You're all caught up."</p> }
                                >
                                    <ul class="inbox" data-testid=testid.clone()>
                                        <For each=items key=|n| n.id let:n>
                                            <NotificationItem n />
                                        </For>
                                    </ul>
                                </Show>
                            }
                            .into_any()
                        }
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn NotificationItem(n: NotificationView) -> impl IntoView {
    let class = format!(
        "item sev-{} {}",
        n.severity.as_str(),
        if n.read { "read" } else { "unread" }
    );
    view! {
        <li class=class data-testid="notification" data-id=n.id data-seq=n.seq>
            <div class="item-head">
                <span class="sev" title="Severity">{n.severity.as_str()}</span>
                <strong class="title" data-testid="notification-title">{n.title}</strong>
                <time datetime=n.created_at.clone()>{short_time(&n.created_at)}</time>
            </div>
            {(!n.body.is_empty()).then(|| view! { <p class="body">{n.body}</p> })}
            {n.link.map(|href| view! { <a class="link" href=href rel="noopener noreferrer">"Open"</a> })}
        </li>
    }
}

/// "2026-11-21T06:08:29.123Z" → "2026-11-21 06:08" (UTC); the same on both sides.
fn short_time(rfc3339: &str) -> String {
    let date = rfc3339.get(..10).unwrap_or(rfc3339);
    let time = rfc3339.get(11..16).unwrap_or("");
    format!("{date} {time}")
}
