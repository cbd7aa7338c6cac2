//! The signed-in user's inbox.

use leptos::prelude::*;

use crate::model::{AppError, InboxPage};

#[server]
pub async fn get_inbox() -> Result<InboxPage, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    crate::server::usecases::inbox::first_page(&state, &session).await
}
