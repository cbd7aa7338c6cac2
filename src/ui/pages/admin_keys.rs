//! The admin console's service keys: create one with its scopes (the key is
//! shown once, here, in this tab's memory only: no page ever renders it
//! again), list them, revoke one. Each server function checks the caller
//! is an admin.

use leptos::prelude::*;

use crate::{
    api::admin::{list_keys, CreateKey, RevokeKey},
    model::{AppError, CreatedKey, KeyView, Scope},
};

#[component]
pub fn ServiceKeys() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    view! {
        <section class="card" data-testid="service-keys">
            <h2>"Service API keys"</h2>
            <NewKeyForm create />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) => view! { <KeyTable keys revoke /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || match revoke.value().get() {
                Some(Err(err)) => Some(view! { <p class="error" role="alert">{err.to_string()}</p> }),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn NewKeyForm(create: ServerAction<CreateKey>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let ticked = Scope::ALL.map(|scope| (scope, RwSignal::new(false)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let scopes = ticked
            .iter()
            .filter(|(_, on)| on.get_untracked())
            .map(|(scope, _)| scope.as_str())
            .collect::<Vec<_>>()
            .join(",");
        create.dispatch(CreateKey {
            name: name.get_untracked(),
            scopes,
        });
    };
    view! {
        <form class="compose" on:submit=submit data-testid="new-key-form">
            <div class="row">
                <label>
                    "Name"
                    <input type="text" name="name" required maxlength="64" data-testid="key-name"
                        placeholder="billing-service"
                        prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e)) />
                </label>
                {ticked
                    .into_iter()
                    .map(|(scope, on)| view! {
                        <label class="check">
                            <input type="checkbox" data-testid=format!("key-scope-{scope}")
                                prop:checked=move || on.get()
                                on:change=move |e| on.set(event_target_checked(&e)) />
                            {format!(" {scope}")}
                        </label>
                    })
                    .collect_view()}
            </div>
            <p class="muted small">
                "publish: broadcast, send to a user, retract · read: stats, announcements, audit · users: provisioning"
            </p>
            <button type="submit" class="primary" data-testid="create-key" disabled=move || create.pending().get()>
                "Create key"
            </button>
        </form>
        {move || match create.value().get() {
            Some(Ok(created)) => view! { <ShownOnce created /> }.into_any(),
            Some(Err(AppError::Invalid { field, message })) => view! {
                <p class="error field" data-testid="key-error">{format!("{field}: {message}")}</p>
            }
            .into_any(),
            Some(Err(err)) => view! { <p class="error" role="alert" data-testid="key-error">{err.to_string()}</p> }
                .into_any(),
            None => ().into_any(),
        }}
    }
}

/// The new key, selectable for copying, with the warning that it goes away.
#[component]
fn ShownOnce(created: CreatedKey) -> impl IntoView {
    view! {
        <div class="ok" role="status" data-testid="new-key-box">
            <p>{format!("Key “{}” created. Copy it now: it is shown only this once.", created.view.name)}</p>
            <input type="text" readonly class="key" data-testid="new-key" value=created.key />
            <p class="muted small">"Select it and copy (Ctrl+C / ⌘C). Use it as Authorization: Bearer <key>."</p>
        </div>
    }
}

#[component]
fn KeyTable(keys: Vec<KeyView>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let short = |at: &str| at.get(..16).unwrap_or(at).replace('T', " ");
    view! {
        <table class="history" data-testid="keys">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Scopes"</th>
                    <th>"Created"</th>
                    <th>"Last used"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {keys
                    .into_iter()
                    .map(|key| {
                        let live = key.revoked_at.is_none();
                        let name = key.name.clone();
                        let scopes = key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                        view! {
                            <tr data-testid="key-row" data-name=key.name.clone()
                                data-status=if live { "live" } else { "revoked" }>
                                <td>{key.name.clone()} <div class="muted small">{format!("{}…", key.prefix)}</div></td>
                                <td>{scopes}</td>
                                <td>{short(&key.created_at)} <div class="muted small">{format!("by {}", key.created_by)}</div></td>
                                <td>{key.last_used_at.as_deref().map_or("never".to_string(), short)}</td>
                                <td>
                                    {if live {
                                        view! {
                                            <button type="button" class="link" data-testid="revoke-key"
                                                on:click=move |_| { revoke.dispatch(RevokeKey { name: name.clone() }); }>
                                                "Revoke"
                                            </button>
                                        }
                                        .into_any()
                                    } else {
                                        view! { <span class="muted">{format!("revoked {}", key.revoked_at.as_deref().map(short).unwrap_or_default())}</span> }
                                            .into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
