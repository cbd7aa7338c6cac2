//! `/login`: a plain form that works without JS (ActionForm posts to the
//! server function), enhanced with inline errors when JS is there.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{api::auth::Login, model::AppError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    // Without JS a failed sign-in comes back as /login?failed=1.
    let failed_without_js = use_query_map().with_untracked(|q| q.get("failed").is_some());
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            // A full load, so every part of the page starts from the new session.
            let _ = window().location().set_href("/");
        }
    });
    let error = move || match login.value().get() {
        Some(Err(AppError::Invalid { message, field })) => Some(format!("{field} {message}")),
        Some(Err(err)) => Some(err.to_string()),
        Some(Ok(())) => None,
        None => failed_without_js.then(|| AppError::BadCredentials.to_string()),
    };

    view! {
        <main class="page narrow">
            <section class="card login">
                <h1>"Sign in to Herald"</h1>
                <ActionForm action=login>
                    <label>
                        "Username"
                        <input type="text" name="username" autocomplete="username" required autofocus />
                    </label>
                    <label>
                        "Password"
                        <input type="password" name="password" autocomplete="current-password" required />
                    </label>
                    {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
