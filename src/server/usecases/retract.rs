//! Removals: an admin retracting an announcement, and the scheduler expiring
//! the ones past `expires_at`. Either way the removal and its audit row
//! commit together, then every inbox hears of it, live.

use crate::{
    model::{AppError, Scope},
    server::{
        auth::Caller,
        delivery::events::DomainEvent,
        state::AppState,
        store::{
            announcements,
            audit::{self, Actor},
        },
    },
};

/// Takes an announcement out of every inbox, live.
pub async fn retract(state: &AppState, caller: &Caller, id: i64) -> Result<(), AppError> {
    caller.require(Scope::Publish)?;
    remove_everywhere(state, id, "retracted", &caller.actor())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("announcement {id} in inboxes")))?;
    Ok(())
}

/// Removes every expired announcement, in Herald's name; returns how many.
/// Each is committed on its own, so a failure (logged; it is retried on the
/// scheduler's next run) leaves the others removed.
pub(crate) async fn expire_due(state: &AppState) -> Result<usize, AppError> {
    let herald = Actor {
        id: None,
        name: "herald",
    };
    let mut expired = 0;
    for id in announcements::expired_ids(&state.pool).await? {
        match remove_everywhere(state, id, "expired", &herald).await {
            Ok(Some(())) => expired += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(announcement_id = id, error = %e, "expiry failed; will retry")
            }
        }
    }
    Ok(expired)
}

/// `None` when it was not in any inbox any more.
async fn remove_everywhere(
    state: &AppState,
    id: i64,
    status: &str,
    actor: &Actor<'_>,
) -> Result<Option<()>, AppError> {
    let mut turn = state.publisher.begin().await?;
    let Some(removals) = announcements::remove(turn.tx(), id, status).await? else {
        return Ok(None);
    };
    let detail = match removals.first() {
        Some(r) => format!("from channel {} (entry {})", r.entry.channel, r.removes),
        None => "before it was sent".to_string(),
    };
    let action = format!("announcement.{status}");
    audit::record(turn.tx(), *actor, &action, &format!("#{id}"), &detail).await?;
    turn.commit(removals.into_iter().map(DomainEvent::Removed))
        .await?;
    Ok(Some(()))
}
