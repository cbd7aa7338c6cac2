//! `/`: the inbox.

use leptos::prelude::*;

use crate::ui::components::{InboxList, SignedInLayout};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <SignedInLayout>
            <section class="card">
                <h1>"Inbox"</h1>
                <InboxList limit=50 testid="inbox" />
            </section>
        </SignedInLayout>
    }
}
