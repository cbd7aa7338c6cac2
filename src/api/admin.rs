//! The admin console's actions.

use leptos::prelude::*;

use crate::model::{AppError, SentAnnouncement};

/// Sends an announcement to every user (the use case checks the caller is an admin).
#[server]
pub async fn broadcast_announcement(
    title: String,
    body: String,
    severity: Option<String>,
    link: Option<String>,
) -> Result<SentAnnouncement, AppError> {
    use super::ssr::{session, state};
    use crate::server::{
        store::notifications::Recipients,
        usecases::announce::{announce, Draft},
    };
    let state = state()?;
    let session = session(&state).await?;
    let draft = Draft {
        event: None,
        title,
        body,
        severity,
        link,
    };
    announce(&state, &session, draft, Recipients::All).await
}
