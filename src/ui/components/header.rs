//! App name, connection state, the bell, and the user menu.

use leptos::prelude::*;

use super::{Bell, UserResource};
use crate::{api::auth::Logout, ui::live::LiveInbox};

#[component]
pub fn Header() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let live = expect_context::<LiveInbox>();
    let logout = ServerAction::<Logout>::new();
    // With JS, reload to the login page once the session is gone.
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            let _ = window().location().set_href("/login");
        }
    });
    let state = move || live.connection.get();

    view! {
        <header class="topbar">
            <a class="brand" href="/">"Herald"</a>
            <span
                class="conn"
                data-testid="connection-state"
                data-state=move || state().label()
                title="Live updates"
            >
                <span class="dot" aria-hidden="true"></span>
                {move || state().label()}
            </span>
            <nav class="topnav">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await
                            .ok()
                            .flatten()
                            .map(|u| {
                                view! {
                                    {u.is_admin().then(|| view! { <a href="/admin">"Admin"</a> })}
                                    <a href="/preferences" data-testid="preferences-link">"Preferences"</a>
                                    <Bell />
                                    <span class="who" data-testid="username">{u.username}</span>
                                    <ActionForm action=logout attr:class="inline">
                                        <button type="submit" class="link">"Sign out"</button>
                                    </ActionForm>
                                }
                            })
                    })}
                </Transition>
            </nav>
        </header>
    }
}
