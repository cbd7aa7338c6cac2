//! Herald's own notifications to one user (e.g. "your export is ready"):
//! composed here, stored without a sender so they stay out of the admin's
//! history, and published like any other.

use crate::{
    model::{AppError, Channel, Severity},
    server::{
        delivery::{events::DomainEvent, hub::EventName},
        state::AppState,
        store::{
            announcements::{self, Timing},
            notifications::NewAnnouncement,
        },
    },
};

/// An export finished: `rows` notifications, readable at its link by the
/// user alone.
pub(crate) async fn export_ready(
    state: &AppState,
    user_id: i64,
    task_id: &str,
    rows: usize,
) -> Result<(), AppError> {
    let notice = NewAnnouncement {
        sender_id: None,
        sender_key_id: None,
        event: EventName::NOTIFICATION,
        title: "Your export is ready".into(),
        body: format!("{rows} notifications, as CSV."),
        severity: Severity::Info,
        link: Some(format!("/api/exports/{task_id}")),
        category: None,
        data: None,
        actions: Vec::new(),
    };
    notify_user(state, &notice, user_id).await
}

/// Stores `notice` for one user and publishes it at once.
async fn notify_user(
    state: &AppState,
    notice: &NewAnnouncement,
    user_id: i64,
) -> Result<(), AppError> {
    let mut turn = state.publisher.begin().await?;
    let (_, published) = announcements::insert(
        turn.tx(),
        notice,
        &Channel::User(user_id),
        Timing::default(),
    )
    .await?;
    turn.commit(published.map(DomainEvent::Notified)).await?;
    Ok(())
}
