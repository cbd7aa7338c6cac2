//! The frame of every signed-in page: loads the user and the inbox, owns the
//! live signals and the inbox actions, starts the stream once hydrated, and
//! shows toasts and critical banners.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AttentionArea, CategoriesResource, Header, SelectedCategory};
use crate::{
    api::{
        auth::current_user,
        inbox::{
            get_inbox, list_categories, Archive, ArchiveRead, ArchiveSelected, ClickAction,
            MarkAllRead, MarkRead, Snooze,
        },
    },
    model::{AppError, InboxPage, UserView},
    ui::live::{LiveInbox, LiveStream},
};

pub type InboxResource = Resource<Result<InboxPage, AppError>>;
pub type UserResource = Resource<Result<Option<UserView>, AppError>>;

/// The inbox actions, shared by every list and the bell. Forms posting to
/// them work without JS too (the server redirects back).
#[derive(Clone, Copy)]
pub struct InboxActions {
    pub mark_read: ServerAction<MarkRead>,
    pub mark_all_read: ServerAction<MarkAllRead>,
    pub archive: ServerAction<Archive>,
    /// A click on a notification's action button (recorded once per user).
    pub click: ServerAction<ClickAction>,
    pub snooze: ServerAction<Snooze>,
    pub archive_read: ServerAction<ArchiveRead>,
    pub archive_selected: ServerAction<ArchiveSelected>,
    /// The items ticked for "Archive selected" (this tab only).
    pub selected: RwSignal<std::collections::BTreeSet<i64>>,
}

#[component]
pub fn SignedInLayout(children: Children) -> impl IntoView {
    let query = use_query_map();
    // `?before=<position>` pages back through older notifications, and
    // `?category=<slug>` is a tab: the server pages that category alone,
    // so a tab lists all of it, not what the whole inbox's page held
    // (links, so both work without JS).
    let before = move || query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
    let category = Memo::new(move |_| query.with(|q| q.get("category").filter(|c| !c.is_empty())));
    let user: UserResource = Resource::new(|| (), |_| current_user());
    let inbox: InboxResource = Resource::new(
        move || (before(), category.get()),
        |(before, category)| get_inbox(before, category),
    );
    let live = LiveInbox::new();
    let stream = LiveStream::new();
    let actions = InboxActions {
        mark_read: ServerAction::new(),
        mark_all_read: ServerAction::new(),
        archive: ServerAction::new(),
        click: ServerAction::new(),
        snooze: ServerAction::new(),
        archive_read: ServerAction::new(),
        archive_selected: ServerAction::new(),
        selected: RwSignal::new(Default::default()),
    };
    let categories: CategoriesResource = Resource::new(|| (), |_| list_categories());
    provide_context(categories);
    provide_context(SelectedCategory(category.into()));
    provide_context(user);
    provide_context(inbox);
    provide_context(live);
    provide_context(actions);
    keep_count_in_step(live, actions);

    // Effects only run in the browser: the stream starts after hydration,
    // resuming after the newest notification the server rendered. It
    // connects once: a refetched page keeps the stream it has.
    Effect::new(move |_| {
        let (Some(Ok(page)), Some(Ok(Some(me)))) = (inbox.get(), user.get()) else {
            return;
        };
        live.know_preferences(page.preferences.clone());
        stream.connect(live, me.id, page.last_position, page.channels.clone());
    });
    // The server said this client missed events: refetch, drop local state.
    Effect::new(move |previous: Option<u32>| {
        let now = live.resyncs.get();
        if previous.is_some_and(|p| p != now) {
            live.reset();
            inbox.refetch();
        }
        now
    });

    let unread = move || {
        live.unread.get().unwrap_or_else(|| {
            inbox
                .get()
                .and_then(Result::ok)
                .map(|page| page.unread)
                .unwrap_or(0)
        })
    };
    provide_context(UnreadCount(Signal::derive(unread)));
    let title = move || match unread() {
        0 => "Herald".to_string(),
        n => format!("({n}) Herald"),
    };

    view! {
        <Title text=title />
        <Header />
        <AttentionArea />
        <main class="page">{children()}</main>
    }
}

/// The unread count to show: the newest the server told us.
#[derive(Clone, Copy)]
pub struct UnreadCount(pub Signal<i64>);

/// An action's answer is the server's new unread count: apply it at once,
/// so the badge is right even before the stream's `notification.read`.
fn keep_count_in_step(live: LiveInbox, actions: InboxActions) {
    let follow = |answer: fn(&InboxActions) -> Option<Result<i64, AppError>>| {
        Effect::new(move |_| {
            if let Some(Ok(unread)) = answer(&actions) {
                live.set_unread(unread);
            }
        });
    };
    follow(|a| a.mark_read.value().get());
    follow(|a| a.mark_all_read.value().get());
    follow(|a| a.archive.value().get());
    follow(|a| a.snooze.value().get());
    follow(|a| a.archive_read.value().get());
    follow(|a| a.archive_selected.value().get());
    // A bulk archive done: nothing stays ticked.
    Effect::new(move |_| {
        if let Some(Ok(_)) = actions.archive_selected.value().get() {
            actions.selected.set(Default::default());
        }
    });
}
