//! The scheduler's firing: sends the scheduled announcements that have come
//! due, then has `retract` remove the expired ones. The schedule lives in the
//! database (`send` stores it), so it survives restarts.

use crate::{
    model::AppError,
    server::{
        delivery::events::DomainEvent,
        state::AppState,
        store::{announcements, webhooks},
        usecases::retract::expire_due,
    },
};

/// One run: returns how many were sent and how many expired.
pub async fn run(state: &AppState) -> Result<(usize, usize), AppError> {
    let sent = send_due(state).await?;
    let expired = expire_due(state).await?;
    Ok((sent, expired))
}

/// Each due announcement is committed and published before the next is
/// touched, so a failure (logged; it is retried on the next run) cannot hold
/// back or lose the others.
async fn send_due(state: &AppState) -> Result<usize, AppError> {
    let mut sent = 0;
    for id in announcements::due_ids(&state.pool).await? {
        match send_scheduled(state, id).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(announcement_id = id, error = %e, "scheduled send failed; will retry")
            }
        }
    }
    Ok(sent)
}

/// One due announcement: append it, commit, publish. `false` when someone
/// else sent it meanwhile.
async fn send_scheduled(state: &AppState, id: i64) -> Result<bool, AppError> {
    let mut turn = state.publisher.begin().await?;
    let Some(published) = announcements::send_scheduled(turn.tx(), id).await? else {
        return Ok(false);
    };
    webhooks::announcement_sent(turn.tx(), &published).await?;
    turn.commit([DomainEvent::Notified(published)]).await?;
    Ok(true)
}
