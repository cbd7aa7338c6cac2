//! `/`: the inbox, paged with `?before=<position>`, and the demo export.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::inbox::StartExport,
    ui::{
        components::{
            inbox_href, BulkButtons, CategoryTabs, InboxList, InboxResource, MarkAllReadButton,
            SelectedCategory, SignedInLayout,
        },
        live::LiveInbox,
    },
};

const PAGE: usize = 20;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <SignedInLayout>
            <section class="card">
                <div class="card-head">
                    <h1>"Inbox"</h1>
                    <div class="card-actions">
                        <MarkAllReadButton by_tab=true />
                        <BulkButtons />
                    </div>
                </div>
                <CategoryTabs />
                <InboxList limit=PAGE testid="inbox" by_tab=true />
                <Pager />
            </section>
            <DemoOnly>
                <ExportCard />
            </DemoOnly>
        </SignedInLayout>
    }
}

/// Links to older and newer pages, within the tab's category when one is
/// selected; plain links, so they work without JS.
#[component]
fn Pager() -> impl IntoView {
    let inbox = expect_context::<InboxResource>();
    let SelectedCategory(category) = expect_context::<SelectedCategory>();
    let query = use_query_map();
    let paged = move || query.with(|q| q.get("before").is_some());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let page = inbox.await.ok()?;
                let older = (page.items.len() >= PAGE)
                    .then(|| page.items.last().map(|n| n.position))
                    .flatten();
                let category = category.get_untracked();
                let newest = inbox_href(category.as_deref(), None);
                let older = older.map(|before| inbox_href(category.as_deref(), Some(before)));
                Some(view! {
                    <nav class="pager" aria-label="Inbox pages">
                        {paged().then(|| view! { <a href=newest data-testid="newest">"← Newest"</a> })}
                        {older.map(|href| view! {
                            <a href=href data-testid="older">"Older →"</a>
                        })}
                    </nav>
                })
            })}
        </Transition>
    }
}

/// What only demo mode shows (`HERALD_DEMO`): the server says, with the page.
#[component]
fn DemoOnly(children: ChildrenFn) -> impl IntoView {
    let inbox = expect_context::<InboxResource>();
    let children = StoredValue::new(children);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let demo = inbox.await.map(|page| page.demo).unwrap_or(false);
                demo.then(|| children.with_value(|c| c()))
            })}
        </Transition>
    }
}

/// The demo export: progress streams in live, the result arrives as a notification.
#[component]
fn ExportCard() -> impl IntoView {
    let live = expect_context::<LiveInbox>();
    let start = ServerAction::<StartExport>::new();
    let task = move || start.value().get().and_then(Result::ok);
    let progress = move || {
        let task = task()?;
        live.progress.get().filter(|p| p.task_id == task)
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Export"</h2>
                <ActionForm action=start attr:class="inline">
                    <button type="submit" class="secondary" data-testid="start-export">
                        "Export my inbox (CSV)"
                    </button>
                </ActionForm>
            </div>
            {move || task().map(|_| {
                let value = move || progress().map(|p| p.progress).unwrap_or(0);
                let status = move || progress().map(|p| p.status).unwrap_or_else(|| "starting".into());
                view! {
                    <div class="export">
                        <progress max="100" value=move || value().to_string() data-testid="export-progress"></progress>
                        <span data-testid="export-status">{move || format!("{}% — {}", value(), status())}</span>
                    </div>
                }
            })}
        </section>
    }
}
