//! The admin console's webhooks: register an endpoint for some events (its
//! signing secret is shown once, here, in this tab's memory only), list
//! endpoints with their latest delivery attempts, remove one. Each server
//! function checks the caller is an admin.

use leptos::prelude::*;

use crate::{
    api::webhooks::{list_webhooks, AddWebhook, RemoveWebhook},
    model::{AppError, CreatedWebhook, WebhookEvent, WebhookView},
};

/// The events anything sends today (`notification.clicked` waits for
/// inbox actions).
const OFFERED: [WebhookEvent; 3] = [
    WebhookEvent::AnnouncementSent,
    WebhookEvent::NotificationRead,
    WebhookEvent::NotificationDelivered,
];

#[component]
pub fn Webhooks() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let remove = ServerAction::<RemoveWebhook>::new();
    let endpoints = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_webhooks(),
    );
    view! {
        <section class="card" data-testid="webhooks">
            <h2>"Webhooks"</h2>
            <NewWebhookForm add />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Ok(endpoints) => view! { <WebhookTable endpoints remove /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || match remove.value().get() {
                Some(Err(err)) => Some(view! { <p class="error" role="alert">{err.to_string()}</p> }),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn NewWebhookForm(add: ServerAction<AddWebhook>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let ticked = OFFERED.map(|event| (event, RwSignal::new(false)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let events = ticked
            .iter()
            .filter(|(_, on)| on.get_untracked())
            .map(|(event, _)| event.as_str())
            .collect::<Vec<_>>()
            .join(",");
        add.dispatch(AddWebhook {
            url: url.get_untracked(),
            events,
        });
    };
    view! {
        <form class="compose" on:submit=submit data-testid="new-webhook-form">
            <div class="row">
                <label>
                    "URL"
                    <input type="url" name="url" required maxlength="2048" data-testid="webhook-url"
                        placeholder="https://billing.example.com/herald"
                        prop:value=move || url.get()
                        on:input=move |e| url.set(event_target_value(&e)) />
                </label>
                {ticked
                    .into_iter()
                    .map(|(event, on)| view! {
                        <label class="check">
                            <input type="checkbox" data-testid=format!("webhook-event-{event}")
                                prop:checked=move || on.get()
                                on:change=move |e| on.set(event_target_checked(&e)) />
                            {format!(" {event}")}
                        </label>
                    })
                    .collect_view()}
            </div>
            <button type="submit" class="primary" data-testid="add-webhook" disabled=move || add.pending().get()>
                "Add endpoint"
            </button>
        </form>
        {move || match add.value().get() {
            Some(Ok(created)) => view! { <SecretShownOnce created /> }.into_any(),
            Some(Err(AppError::Invalid { field, message })) => view! {
                <p class="error field" data-testid="webhook-error">{format!("{field}: {message}")}</p>
            }
            .into_any(),
            Some(Err(err)) => view! { <p class="error" role="alert" data-testid="webhook-error">{err.to_string()}</p> }
                .into_any(),
            None => ().into_any(),
        }}
    }
}

#[component]
fn SecretShownOnce(created: CreatedWebhook) -> impl IntoView {
    view! {
        <div class="ok" role="status" data-testid="new-webhook-box">
            <p>{format!("Endpoint {} added. Copy its signing secret now: it is shown only this once.", created.id)}</p>
            <input type="text" readonly class="key" data-testid="webhook-secret" value=created.secret />
            <p class="muted small">"The receiver verifies each request's webhook-signature with it (Standard Webhooks)."</p>
        </div>
    }
}

#[component]
fn WebhookTable(endpoints: Vec<WebhookView>, remove: ServerAction<RemoveWebhook>) -> impl IntoView {
    let short = |at: &str| at.get(..19).unwrap_or(at).replace('T', " ");
    view! {
        <table class="history" data-testid="webhook-list">
            <thead>
                <tr>
                    <th>"Endpoint"</th>
                    <th>"Events"</th>
                    <th>"Pending"</th>
                    <th>"Last attempts"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {endpoints
                    .into_iter()
                    .map(|endpoint| {
                        let id = endpoint.id;
                        let events = endpoint.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                        let attempts = endpoint
                            .recent_attempts
                            .iter()
                            .take(3)
                            .map(|a| {
                                let answer = a
                                    .status
                                    .map(|s| s.to_string())
                                    .or_else(|| a.error.clone())
                                    .unwrap_or_default();
                                let class = if a.ok { "small" } else { "small error" };
                                view! {
                                    <div class=class data-testid="webhook-attempt">
                                        {format!("{} {} {} ({} ms)", short(&a.at), a.event, answer, a.duration_ms)}
                                    </div>
                                }
                            })
                            .collect_view();
                        view! {
                            <tr data-testid="webhook-row" data-id=id.to_string()>
                                <td>{endpoint.url.clone()} <div class="muted small">{format!("#{id} by {}", endpoint.created_by)}</div></td>
                                <td>{events}</td>
                                <td>{endpoint.pending}</td>
                                <td>{attempts}</td>
                                <td>
                                    <button type="button" class="link" data-testid="remove-webhook"
                                        on:click=move |_| { remove.dispatch(RemoveWebhook { id }); }>
                                        "Remove"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
