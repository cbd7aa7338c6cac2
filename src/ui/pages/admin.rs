//! `/admin`: compose, preview and send (or schedule) an announcement; see
//! its funnel, retract it, watch who is online, read the audit log, manage
//! service API keys (`admin_keys`) and webhooks (`admin_webhooks`). The
//! page guard and every server function check the caller is an admin.

use leptos::prelude::*;

use crate::{
    api::{
        admin::{admin_console, RetractAnnouncement, SendAnnouncement, SetCategoryLabel},
        inbox::list_categories,
    },
    model::{limits, AppError, ConsoleView, NotificationView, Severity},
    ui::{
        components::{NotificationPreview, SignedInLayout},
        live::LiveInbox,
        pages::{admin_keys::ServiceKeys, admin_webhooks::Webhooks},
    },
};

#[component]
pub fn AdminPage() -> impl IntoView {
    let send = ServerAction::<SendAnnouncement>::new();
    let retract = ServerAction::<RetractAnnouncement>::new();
    view! {
        <SignedInLayout>
            <Console send retract />
        </SignedInLayout>
    }
}

/// The console: refetched after this tab's own sends and retractions, and
/// whenever the admin's stream says it changed (`console.changed`, at
/// most once a second; an announcement from another admin tab included).
/// No poll.
#[component]
fn Console(
    send: ServerAction<SendAnnouncement>,
    retract: ServerAction<RetractAnnouncement>,
) -> impl IntoView {
    // Inside the layout: the stream's signals are its context.
    let live = expect_context::<LiveInbox>();
    let console = Resource::new(
        move || {
            (
                send.version().get(),
                retract.version().get(),
                live.console_changes.get(),
            )
        },
        |_| admin_console(),
    );
    view! {
        <div class="admin-grid">
            <Compose send />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match console.await {
                        Ok(view) => view! { <ConsolePanels view retract /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Categories />
            <ServiceKeys />
            <Webhooks />
        </div>
    }
}

#[component]
fn Compose(send: ServerAction<SendAnnouncement>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let severity = RwSignal::new("info".to_string());
    let link = RwSignal::new(String::new());
    let target = RwSignal::new("all".to_string());
    // After a send the form is emptied (and the preview with it): a second
    // click finds a required title empty and cannot send it again.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = send.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            title.set(String::new());
            body.set(String::new());
            severity.set("info".to_string());
            link.set(String::new());
            target.set("all".to_string());
        }
    });
    let field_error = move |name: &'static str| {
        move || match send.value().get() {
            Some(Err(AppError::Invalid { field, message })) if field == name => Some(
                view! { <p class="error field" data-testid=format!("error-{name}")>{message}</p> },
            ),
            _ => None,
        }
    };
    let outcome = move || match send.value().get() {
        Some(Ok(sent)) if sent.scheduled => Some(
            view! { <p class="ok" role="status" data-testid="send-result">"Scheduled."</p> }
                .into_any(),
        ),
        Some(Ok(sent)) => Some(
            view! {
                <p class="ok" role="status" data-testid="send-result">
                    {format!(
                        "Sent to {} user{}.",
                        sent.recipients,
                        if sent.recipients == 1 { "" } else { "s" },
                    )}
                </p>
            }
            .into_any(),
        ),
        Some(Err(AppError::Invalid { .. })) | None => None,
        Some(Err(err)) => Some(
            view! { <p class="error" role="alert" data-testid="send-error">{err.to_string()}</p> }
                .into_any(),
        ),
    };
    let preview = move || NotificationView {
        id: 0,
        position: 0,
        title: if title.get().trim().is_empty() {
            "Title".into()
        } else {
            title.get()
        },
        body: body.get(),
        severity: Severity::parse(&severity.get()).unwrap_or_default(),
        link: Some(link.get()).filter(|l| !l.trim().is_empty()),
        category: None,
        data: None,
        actions: Vec::new(),
        created_at: String::new(),
        read: false,
    };

    view! {
        <section class="card">
            <h1>"Send an announcement"</h1>
            <ActionForm action=send node_ref=form attr:class="compose" attr:data-testid="compose">
                <label>
                    "Title"
                    <input type="text" name="title" required maxlength=limits::TITLE_MAX.to_string()
                        on:input=move |e| title.set(event_target_value(&e)) />
                </label>
                {field_error("title")}
                <label>
                    "Message"
                    <textarea name="body" rows="3" maxlength=limits::BODY_MAX.to_string()
                        on:input=move |e| body.set(event_target_value(&e))></textarea>
                </label>
                {field_error("body")}
                <div class="row">
                    <label>
                        "Severity"
                        <select name="severity" on:change=move |e| severity.set(event_target_value(&e))>
                            <option value="info" selected>"Info"</option>
                            <option value="warning">"Warning"</option>
                            <option value="critical">"Critical"</option>
                        </select>
                    </label>
                    <label>
                        "Link (optional)"
                        <input type="text" name="link" placeholder="https://… or /path"
                            on:input=move |e| link.set(event_target_value(&e)) />
                    </label>
                </div>
                {field_error("link")}
                <label>
                    "Category (optional; a new one is created)"
                    <input type="text" name="category" list="category-slugs" placeholder="deploys"
                        data-testid="compose-category" />
                </label>
                {field_error("category")}
                <div class="row">
                    <label>
                        "To"
                        <select name="target" data-testid="target" on:change=move |e| target.set(event_target_value(&e))>
                            <option value="all" selected>"Everyone"</option>
                            <option value="role">"A role"</option>
                            <option value="user">"One user"</option>
                        </select>
                    </label>
                    <label class:hidden=move || target.get() != "role">
                        "Role"
                        <select name="role">
                            <option value="user">"Users"</option>
                            <option value="admin">"Admins"</option>
                        </select>
                    </label>
                    <label class:hidden=move || target.get() != "user">
                        "Username"
                        <input type="text" name="username" list="usernames" data-testid="target-username" />
                    </label>
                </div>
                {field_error("username")}
                <div class="row">
                    <label>
                        "Send at (UTC, optional)"
                        <input type="datetime-local" name="send_at" step="1" data-testid="send-at" />
                    </label>
                    <label>
                        "Expires at (UTC, optional)"
                        <input type="datetime-local" name="expires_at" step="1" data-testid="expires-at" />
                    </label>
                </div>
                {field_error("send_at")}
                {field_error("expires_at")}
                <p class="muted small">"Preview"</p>
                <ul class="inbox preview" data-testid="preview">
                    {move || view! { <NotificationPreview n=preview() /> }}
                </ul>
                <button type="submit" class="primary" data-testid="send-broadcast" disabled=move || send.pending().get()>
                    "Send"
                </button>
                {outcome}
            </ActionForm>
        </section>
    }
}

#[component]
fn ConsolePanels(view: ConsoleView, retract: ServerAction<RetractAnnouncement>) -> impl IntoView {
    let ConsoleView {
        history,
        audit,
        users,
        total_streams,
        online,
    } = view;
    view! {
        <datalist id="usernames">
            {users.into_iter().map(|u| view! { <option value=u.username></option> }).collect_view()}
        </datalist>
        <section class="card" data-testid="hub-stats">
            <h2>"Online now"</h2>
            <p>
                <strong data-testid="total-streams">{total_streams}</strong>
                " open streams, "
                <strong>{online.len()}</strong>
                " users"
            </p>
            <ul class="plain">
                {online
                    .into_iter()
                    .map(|(name, n)| view! { <li data-testid="online-user">{format!("{name}: {n}")}</li> })
                    .collect_view()}
            </ul>
        </section>
        <section class="card">
            <h2>"Sent"</h2>
            <table class="history" data-testid="history">
                <thead>
                    <tr>
                        <th>"Title"</th>
                        <th>"To"</th>
                        <th>"Status"</th>
                        <th title="recipients / delivered / read">"Funnel"</th>
                        <th title="users who clicked an action">"Clicked"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {history
                        .into_iter()
                        .map(|a| {
                            let removable = a.status == "sent" || a.status == "scheduled";
                            let when = a.send_at.clone().unwrap_or(a.created_at.clone());
                            view! {
                                <tr data-testid="history-row" data-id=a.id data-status=a.status.clone()>
                                    <td>
                                        <span class=format!("sev sev-{}", a.severity.as_str())>{a.severity.as_str()}</span>
                                        " " {a.title}
                                        <div class="muted small">{format!("{} · {}", a.sender, when.get(..16).unwrap_or(&when).replace('T', " "))}</div>
                                    </td>
                                    <td>{a.target.to_string()}</td>
                                    <td>{a.status.clone()}</td>
                                    <td data-testid="funnel">{format!("{} / {} / {}", a.recipients, a.delivered, a.read)}</td>
                                    <td data-testid="funnel-clicked">{a.clicked}</td>
                                    <td>
                                        {removable.then(|| view! {
                                            <ActionForm action=retract attr:class="inline">
                                                <input type="hidden" name="id" value=a.id />
                                                <button type="submit" class="link" data-testid="retract">"Retract"</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>"Audit log"</h2>
            <ul class="plain audit" data-testid="audit">
                {audit
                    .into_iter()
                    .map(|e| view! {
                        <li>
                            <span class="muted small">{e.created_at.get(..19).unwrap_or(&e.created_at).replace('T', " ")}</span>
                            " " <strong>{e.actor}</strong> " " {e.action} " " {e.target} " " <span class="muted">{e.detail}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The categories: created on first use by a send, labelled here.
#[component]
fn Categories() -> impl IntoView {
    let save = ServerAction::<SetCategoryLabel>::new();
    let list = Resource::new(move || save.version().get(), |_| list_categories());
    let error = move || match save.value().get() {
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
        _ => None,
    };
    view! {
        <section class="card" data-testid="categories">
            <h2>"Categories"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = list.await.unwrap_or_default();
                    view! {
                        <datalist id="category-slugs">
                            {list.iter().map(|c| view! { <option value=c.slug.clone()></option> }).collect_view()}
                        </datalist>
                        <ul class="plain">
                            {list
                                .into_iter()
                                .map(|c| {
                                    let (row, slug, code) = (c.slug.clone(), c.slug.clone(), c.slug);
                                    view! {
                                    <li data-testid="category-row" data-category=row>
                                        <ActionForm action=save attr:class="inline">
                                            <input type="hidden" name="slug" value=slug />
                                            <code>{code}</code>
                                            " "
                                            <input type="text" name="label" value=c.label required
                                                maxlength=crate::model::category::CATEGORY_LABEL_MAX.to_string() />
                                            <button type="submit" class="link">"Rename"</button>
                                        </ActionForm>
                                    </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            </Transition>
            <ActionForm action=save attr:class="row">
                <input type="text" name="slug" placeholder="slug (e.g. deploys)" required data-testid="new-category-slug" />
                <input type="text" name="label" placeholder="Label" required data-testid="new-category-label" />
                <button type="submit" class="secondary" data-testid="add-category">"Add"</button>
            </ActionForm>
            {error}
        </section>
    }
}
