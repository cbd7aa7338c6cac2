//! A list of notifications: the server-rendered page with live changes on
//! top. Each item's actions are forms, so they work without JS as well.

use leptos::prelude::*;

use super::{InboxActions, InboxResource, SelectBox, SelectedCategory, SnoozeMenu};
use crate::{
    api::inbox::ClickAction,
    model::{link_opens, NotificationView},
    ui::live::LiveInbox,
};

/// `by_tab`: only the selected category's (the inbox card; the bell's
/// dropdown lists everything).
#[component]
pub fn InboxList(
    limit: usize,
    #[prop(into)] testid: String,
    #[prop(optional)] by_tab: bool,
) -> impl IntoView {
    let inbox = expect_context::<InboxResource>();
    let live = expect_context::<LiveInbox>();
    let selected = use_context::<SelectedCategory>().filter(|_| by_tab);
    // The tab's notifications: those of the selected category, or all.
    let in_tab = move |n: &NotificationView| {
        selected.is_none_or(|SelectedCategory(s)| {
            s.with(|s| s.is_none() || s.as_deref() == n.category.as_deref())
        })
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new({
                let testid = testid.clone();
                async move {
                    match inbox.await {
                        Err(err) => {
                            view! { <p class="error" role="alert">{err.to_string()}</p> }
                                .into_any()
                        }
                        Ok(page) => {
                            let rendered = StoredValue::new(page.items);
                            let items = move || {
                                // The tab's filter before the limit: the page
                                // is the tab's already, arrivals are of any.
                                rendered.with_value(|r| {
                                    live.overlay.with(|o| o.merge_where(r, limit, in_tab))
                                })
                            };
                            view! {
                                <Show
                                    when=move || !items().is_empty()
                                    fallback=|| {
                                        view! {
                                            <p class="empty" data-testid="inbox-empty">
                                                "You're all caught up."
                                            </p>
                                        }
                                    }
                                >
                                    <ul class="inbox" data-testid=testid.clone()>
                                        <For each=items key=|n| (n.id, n.read) let:n>
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
    let live = expect_context::<LiveInbox>();
    let actions = expect_context::<InboxActions>();
    let class = format!(
        "item sev-{} {}",
        n.severity.as_str(),
        if n.read { "read" } else { "unread" }
    );
    let absolute = short_time(&n.created_at);
    let when = {
        let created = n.created_at.clone();
        move || match live.now_ms.get() {
            Some(now) => crate::ui::live::relative_time(parse_ms(&created), now, &created),
            None => absolute.clone(),
        }
    };
    let id = n.id;
    view! {
        <li class=class data-testid="notification" data-id=n.id data-seq=n.position data-read=n.read.to_string()>
            <div class="item-head">
                <SelectBox id />
                <span class=format!("sev sev-{}", n.severity.as_str()) data-testid="severity">
                    {n.severity.as_str()}
                </span>
                {if n.read {
                    view! { <strong class="title" data-testid="notification-title">{n.title}</strong> }
                        .into_any()
                } else {
                    // Clicking an unread title marks it read.
                    view! {
                        <ActionForm action=actions.mark_read attr:class="inline">
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="title as-text" data-testid="notification-title" title="Mark as read">
                                {n.title}
                            </button>
                        </ActionForm>
                    }
                        .into_any()
                }}
                {n.category.clone().map(|c| view! { <span class="chip" data-testid="category">{c}</span> })}
                <time datetime=n.created_at.clone()>{when}</time>
            </div>
            {(!n.body.is_empty()).then(|| view! { <p class="body">{n.body}</p> })}
            <div class="item-actions">
                {n
                    .actions
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| link_opens(&a.url))
                    .map(|(i, a)| {
                        let action = i as u8;
                        // A new tab, so the click's record is not cut short
                        // by leaving the page.
                        view! {
                            <a
                                class="action button"
                                href=a.url.clone()
                                target="_blank"
                                rel="noopener noreferrer"
                                data-testid="action"
                                on:click=move |_| {
                                    actions.click.dispatch(ClickAction { id, action });
                                }
                            >
                                {a.label.clone()}
                            </a>
                        }
                    })
                    .collect_view()}
                {n
                    .link
                    .filter(|href| link_opens(href))
                    .map(|href| view! { <a class="open" href=href rel="noopener noreferrer">"Open"</a> })}
                <ActionForm action=actions.archive attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="link" data-testid="archive">"Archive"</button>
                </ActionForm>
                <SnoozeMenu id />
            </div>
        </li>
    }
}

/// "Mark all read", or in a category's tab "Mark <category> read": one
/// request either way.
#[component]
pub fn MarkAllReadButton(#[prop(optional)] by_tab: bool) -> impl IntoView {
    let actions = expect_context::<InboxActions>();
    let selected = use_context::<SelectedCategory>()
        .filter(|_| by_tab)
        .map(|SelectedCategory(s)| s)
        .unwrap_or_else(|| Signal::stored(None));
    let category = move || selected.get().unwrap_or_default();
    view! {
        <ActionForm action=actions.mark_all_read attr:class="inline">
            <input type="hidden" name="category" prop:value=category />
            <button type="submit" class="link" data-testid="mark-all-read">
                {move || match selected.get() {
                    Some(c) => format!("Mark {c} read"),
                    None => "Mark all read".to_string(),
                }}
            </button>
        </ActionForm>
    }
}

/// "2026-11-21T06:08:29.123Z" → "2026-11-21 06:08" (UTC); the same on both sides.
fn short_time(rfc3339: &str) -> String {
    let date = rfc3339.get(..10).unwrap_or(rfc3339);
    let time = rfc3339.get(11..16).unwrap_or("");
    format!("{date} {time}")
}

fn parse_ms(rfc3339: &str) -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::parse(rfc3339)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = rfc3339;
        0.0
    }
}

/// How a notification will look, for the admin's preview (no actions).
#[component]
pub fn NotificationPreview(n: NotificationView) -> impl IntoView {
    view! {
        <li class=format!("item unread sev-{}", n.severity.as_str())>
            <div class="item-head">
                <span class=format!("sev sev-{}", n.severity.as_str())>{n.severity.as_str()}</span>
                <strong class="title" data-testid="preview-title">{n.title}</strong>
                <time>"just now"</time>
            </div>
            {(!n.body.is_empty()).then(|| view! { <p class="body">{n.body}</p> })}
            {n.link.map(|href| view! { <div class="item-actions"><span class="open">{href}</span></div> })}
        </li>
    }
}
