//! `/preferences`: which categories to mute and which raise desktop alerts,
//! and whether what stays unread is emailed (and after how long) and
//! pushed to this browser (Web Push: the switch acts at once, per browser).
//! Saved in one request; every open tab takes the new preferences at once
//! (the stream's `preferences` event). Muting never applies to `critical`.

use leptos::prelude::*;

use crate::{
    api::inbox::{get_preferences, list_categories, SavePreferences},
    model::{Category, Preferences},
    ui::{components::SignedInLayout, live::LiveInbox},
};

#[component]
pub fn PreferencesPage() -> impl IntoView {
    view! {
        <SignedInLayout>
            <section class="card" data-testid="preferences">
                <h1>"Preferences"</h1>
                <p class="muted">
                    "A muted category is still kept and listed under its tab, but raises no toast, \
                     no system notification and no badge count. "
                    <strong>"Critical notifications are never muted."</strong>
                </p>
                <PreferencesForm />
            </section>
        </SignedInLayout>
    }
}

#[component]
fn PreferencesForm() -> impl IntoView {
    let live = expect_context::<LiveInbox>();
    let save = ServerAction::<SavePreferences>::new();
    let loaded = Resource::new(
        || (),
        |_| async move {
            Ok::<_, crate::model::AppError>((list_categories().await?, get_preferences().await?))
        },
    );
    // The answer carries the counts under the new preferences: take them
    // at once, ahead of the stream's own `preferences` event.
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            live.apply(crate::ui::inbox::Event::Preferences(saved));
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    Ok((categories, prefs)) => view! { <Choices categories prefs save /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Choices(
    categories: Vec<Category>,
    prefs: Preferences,
    save: ServerAction<SavePreferences>,
) -> impl IntoView {
    let has_categories = !categories.is_empty();
    let escalation = prefs.escalation.unwrap_or_default();
    let email_on = RwSignal::new(escalation.enabled);
    // Minutes in the form; empty: the category's or the server's delay.
    let email_after = RwSignal::new(
        escalation
            .after_secs
            .map(|s| (s / 60).max(1).to_string())
            .unwrap_or_default(),
    );
    let muted = RwSignal::new(prefs.muted);
    let desktop = RwSignal::new(prefs.desktop);
    let toggle = |list: RwSignal<Vec<String>>, slug: String, on: bool| {
        list.update(|l| {
            l.retain(|s| *s != slug);
            if on {
                l.push(slug);
            }
        })
    };
    let rows = categories
        .into_iter()
        .map(|c| {
            let (m, d) = (c.slug.clone(), c.slug.clone());
            let (m2, d2) = (c.slug.clone(), c.slug.clone());
            view! {
                <tr data-testid="preference-row" data-category=c.slug.clone()>
                    <td>{c.label}</td>
                    <td>
                        <input type="checkbox" data-testid="mute"
                            prop:checked=move || muted.with(|l| l.contains(&m))
                            on:change=move |e| toggle(muted, m2.clone(), event_target_checked(&e)) />
                    </td>
                    <td>
                        <input type="checkbox" data-testid="desktop"
                            prop:checked=move || desktop.with(|l| l.contains(&d))
                            on:change=move |e| toggle(desktop, d2.clone(), event_target_checked(&e)) />
                    </td>
                </tr>
            }
        })
        .collect_view();
    let table = has_categories.then(|| {
        view! {
            <table class="history">
                <thead>
                    <tr><th>"Category"</th><th>"Mute"</th><th>"Desktop alerts"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let empty = (!has_categories).then(|| view! { <p class="empty">"No categories yet."</p> });
    let saved = move || match save.value().get() {
        Some(Ok(_)) => Some(
            view! { <p class="ok" role="status" data-testid="preferences-saved">"Saved."</p> }
                .into_any(),
        ),
        Some(Err(e)) => {
            Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any())
        }
        None => None,
    };
    view! {
        {table}
        {empty}
        <fieldset class="email-escalation" data-testid="email-escalation">
            <legend>"Email"</legend>
            <p class="muted">
                "If you have an email address here, what stays unread and never reached an \
                 open Herald tab is emailed to you after a while (muted categories never are)."
            </p>
            <label>
                <input type="checkbox" data-testid="escalate"
                    prop:checked=move || email_on.get()
                    on:change=move |e| email_on.set(event_target_checked(&e)) />
                " Email me what stays unread"
            </label>
            <label>
                " after "
                <input type="number" min="1" max="10080" data-testid="escalate-after"
                    placeholder="default" size="6"
                    prop:disabled=move || !email_on.get()
                    prop:value=move || email_after.get()
                    on:input=move |e| email_after.set(event_target_value(&e)) />
                " minutes (empty: the default)"
            </label>
        </fieldset>
        <PushSwitch />
        <button
            type="button"
            class="primary"
            data-testid="save-preferences"
            disabled=move || save.pending().get()
            on:click=move |_| {
                save.dispatch(SavePreferences {
                    muted: muted.get_untracked().join(","),
                    desktop: desktop.get_untracked().join(","),
                    escalate: Some(email_on.get_untracked()),
                    // Not a number: the default (the server checks the range).
                    escalate_after_mins: email_after.get_untracked().trim().parse().ok(),
                });
            }
        >
            "Save"
        </button>
        {saved}
    }
    .into_any()
}

/// "Desktop push": this browser's Web Push subscription. On asks the
/// browser to subscribe (it asks the user's permission) and saves the
/// subscription; off unsubscribes and deletes it. Pushed: what email
/// escalation would send, with the same settings above.
#[component]
fn PushSwitch() -> impl IntoView {
    let on = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !crate::ui::live::push::supported() {
            status.set(Some("This browser has no Web Push.".into()));
            return;
        }
        leptos::task::spawn_local(async move {
            on.set(crate::ui::live::push::subscribed().await);
        });
    });
    let change = move |wanted: bool| {
        busy.set(true);
        status.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use crate::api::push::{
                push_public_key, remove_push_subscription, save_push_subscription,
            };
            use crate::ui::live::push;
            let done: Result<(), String> = if wanted {
                async {
                    let key = push_public_key().await.map_err(|e| e.to_string())?;
                    let subscription = push::subscribe(&key).await?;
                    save_push_subscription(subscription)
                        .await
                        .map_err(|e| e.to_string())
                }
                .await
            } else {
                async {
                    if let Some(endpoint) = push::unsubscribe().await? {
                        remove_push_subscription(endpoint)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                }
                .await
            };
            match done {
                Ok(()) => {
                    on.set(wanted);
                    status.set(Some(if wanted { "Push on." } else { "Push off." }.into()));
                }
                Err(e) => status.set(Some(e)),
            }
            busy.set(false);
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = wanted;
    };
    view! {
        <fieldset class="push-escalation" data-testid="push-escalation">
            <legend>"Desktop push"</legend>
            <p class="muted">
                "Push to this browser what stays unread and never reached an open Herald tab,                  like the email (even with the browser closed, where it supports it)."
            </p>
            <label>
                <input type="checkbox" data-testid="push-toggle"
                    prop:checked=move || on.get()
                    prop:disabled=move || busy.get()
                    on:change=move |e| change(event_target_checked(&e)) />
                " Desktop push: on"
            </label>
            {move || status.get().map(|s| view! { <p class="muted" role="status" data-testid="push-status">{s}</p> })}
        </fieldset>
    }
}
