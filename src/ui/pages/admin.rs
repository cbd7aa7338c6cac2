//! `/admin`: compose and broadcast an announcement. The page guard and the
//! use case both check the caller is an admin.

use leptos::prelude::*;

use crate::{
    api::admin::BroadcastAnnouncement,
    model::{limits, AppError},
    ui::components::SignedInLayout,
};

#[component]
pub fn AdminPage() -> impl IntoView {
    let send = ServerAction::<BroadcastAnnouncement>::new();
    let field_error = move |name: &'static str| {
        move || match send.value().get() {
            Some(Err(AppError::Invalid { field, message })) if field == name => Some(message),
            _ => None,
        }
    };
    let outcome = move || {
        match send.value().get() {
        Some(Ok(sent)) => Some(view! {
            <p class="ok" role="status" data-testid="send-result">
                {format!("Sent to {} user{}.", sent.recipients, if sent.recipients == 1 { "" } else { "s" })}
            </p>
        }
        .into_any()),
        Some(Err(AppError::Invalid { .. })) | None => None,
        Some(Err(err)) => Some(view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any()),
    }
    };

    view! {
        <SignedInLayout>
            <section class="card">
                <h1>"Send an announcement"</h1>
                <p class="muted">"Goes to every user, live, and stays in their inbox."</p>
                <ActionForm action=send attr:class="compose">
                    <label>
                        "Title"
                        <input type="text" name="title" required maxlength=limits::TITLE_MAX.to_string() />
                    </label>
                    {move || field_error("title")().map(|m| view! { <p class="error field">{m}</p> })}
                    <label>
                        "Message"
                        <textarea name="body" rows="4" maxlength=limits::BODY_MAX.to_string()></textarea>
                    </label>
                    {move || field_error("body")().map(|m| view! { <p class="error field">{m}</p> })}
                    <label>
                        "Severity"
                        <select name="severity">
                            <option value="info" selected>"Info"</option>
                            <option value="warning">"Warning"</option>
                            <option value="critical">"Critical"</option>
                        </select>
                    </label>
                    <label>
                        "Link (optional)"
                        <input type="text" name="link" placeholder="https://… or /path" />
                    </label>
                    {move || field_error("link")().map(|m| view! { <p class="error field">{m}</p> })}
                    <button type="submit" class="primary" data-testid="send-broadcast" disabled=move || send.pending().get()>
                        "Send to everyone"
                    </button>
                    {outcome}
                </ActionForm>
            </section>
        </SignedInLayout>
    }
}
