//! Snoozes coming due: the snooze task's run (`tasks::snoozes`). Each run
//! claims what is due in one publishing turn and appends the returns there
//! (`store::snoozes`), so every instance of a cluster may run it and each
//! snooze still comes back once; the rows live in the database, so a
//! restart loses none (a server down at the time returns them on its
//! first tick back).

use crate::{
    model::AppError,
    server::{delivery::events::DomainEvent, state::AppState, store::snoozes},
};

/// Brings back what is due; returns how many came back. At most
/// `snoozes::RETURNS_PER_TURN` per turn, turns until none is due.
pub async fn return_due(state: &AppState) -> Result<usize, AppError> {
    let mut returned = 0;
    while snoozes::any_due(&state.pool).await? {
        let mut turn = state.publisher.begin().await?;
        let published = snoozes::return_due(turn.tx()).await?;
        let (n, full) = (
            published.len(),
            published.len() as i64 >= snoozes::RETURNS_PER_TURN,
        );
        turn.commit(published.into_iter().map(DomainEvent::Notified))
            .await?;
        returned += n;
        if !full {
            break;
        }
    }
    Ok(returned)
}
