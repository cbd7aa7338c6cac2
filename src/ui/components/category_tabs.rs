//! The inbox's tabs: "All" and one per category, each with its unread
//! count as the server computed it (the page's counts, then every event's).
//! A muted category's tab still counts its notifications; the bell does not.
//! A tab is a link (`/?category=<slug>`): the server pages that category
//! (`get_inbox`), so older ones are a page away, as in "All".

use leptos::prelude::*;

use super::InboxResource;
use crate::{
    model::{AppError, Category},
    ui::live::LiveInbox,
};

/// The tab shown: a category's slug, or `None` for every notification
/// (the page's `?category=`).
#[derive(Clone, Copy)]
pub struct SelectedCategory(pub Signal<Option<String>>);

/// The inbox's address for a tab and, when paging back, a position.
pub fn inbox_href(category: Option<&str>, before: Option<i64>) -> String {
    match (category, before) {
        (None, None) => "/".to_string(),
        (None, Some(b)) => format!("/?before={b}"),
        (Some(c), None) => format!("/?category={c}"),
        (Some(c), Some(b)) => format!("/?category={c}&before={b}"),
    }
}

pub type CategoriesResource = Resource<Result<Vec<Category>, AppError>>;

#[component]
pub fn CategoryTabs() -> impl IntoView {
    let categories = expect_context::<CategoriesResource>();
    let inbox = expect_context::<InboxResource>();
    let live = expect_context::<LiveInbox>();
    let SelectedCategory(selected) = expect_context::<SelectedCategory>();
    let count_of = move |slug: &str| {
        live.by_category
            .get()
            .or_else(|| {
                inbox
                    .get()
                    .and_then(Result::ok)
                    .map(|p| p.unread_by_category)
            })
            .and_then(|counts| counts.get(slug).copied())
            .unwrap_or(0)
    };
    let muted = move |slug: &str| {
        live.preferences
            .get()
            .is_some_and(|p| p.is_muted(Some(slug)))
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = categories.await.unwrap_or_default();
                (!list.is_empty()).then(|| {
                    let tabs = list
                        .into_iter()
                        .map(|c| {
                            let slug = StoredValue::new(c.slug.clone());
                            let is_selected = move || {
                                selected.with(|s| s.as_deref() == Some(slug.get_value().as_str()))
                            };
                            view! {
                                <a
                                    href=inbox_href(Some(&c.slug), None)
                                    role="tab"
                                    class="tab"
                                    class:muted=move || muted(&slug.get_value())
                                    aria-selected=move || is_selected().to_string()
                                    data-testid="category-tab"
                                    data-category=c.slug.clone()
                                >
                                    {c.label}
                                    " "
                                    <span class="tab-count" data-testid="tab-count">
                                        {move || count_of(&slug.get_value())}
                                    </span>
                                </a>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="tabs" role="tablist" aria-label="Categories">
                            <a
                                href=inbox_href(None, None)
                                role="tab"
                                class="tab"
                                aria-selected=move || selected.with(Option::is_none).to_string()
                                data-testid="category-tab"
                                data-category=""
                            >
                                "All"
                            </a>
                            {tabs}
                        </div>
                    }
                })
            })}
        </Transition>
    }
}
