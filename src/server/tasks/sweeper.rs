//! Closes streams whose session has ended behind the server's back: expired,
//! or revoked by another process (the `herald user …` CLI, another node).
//! Revocations made inside this process close streams at once; this sweep
//! bounds the delay for the rest to one period. The same period also clears
//! what Herald keeps only for a while: `Idempotency-Key` results older than
//! 24 h, expired stream tickets, and export files older than
//! `HERALD_EXPORT_RETENTION_HOURS`.

use crate::server::{
    delivery::events,
    delivery::hub::Hub,
    periodic,
    state::AppState,
    store,
    store::sessions,
    usecases::{export, idempotency},
};

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    periodic::every(state.config.session_sweep, move || {
        let state = state.clone();
        async move {
            sweep(&state.pool, &state.hub).await;
            clear_expired(&state).await;
        }
    })
}

/// Expired idempotency keys and old export files; failures are logged and
/// retried on the next tick.
async fn clear_expired(state: &AppState) {
    match idempotency::prune(&state.pool).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(keys = n, "pruned expired idempotency keys"),
        Err(e) => tracing::warn!(error = %e, "idempotency key pruning failed; will retry"),
    }
    match state.publisher.backplane().prune(&state.pool).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "pruned old control entries"),
        Err(e) => tracing::warn!(error = %e, "control entry pruning failed; will retry"),
    }
    if let Err(e) = store::stream_tickets::delete_expired(&state.pool).await {
        tracing::warn!(error = %e, "stream ticket clean-up failed; will retry");
    }
    // An hour after expiry: every stream of theirs is closed by then.
    let an_hour_ago = store::now_ms() - 3_600_000;
    match sessions::delete_expired(&state.pool, an_hour_ago, 10_000).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "deleted expired sessions"),
        Err(e) => tracing::warn!(error = %e, "expired session clean-up failed; will retry"),
    }
    let dir = state.config.exports_dir();
    let retention = state.config.export_retention;
    match tokio::task::spawn_blocking(move || export::delete_expired(&dir, retention)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(files = n, "deleted expired exports"),
        Ok(Err(e)) => tracing::warn!(error = %e, "export clean-up failed; will retry"),
        Err(e) => tracing::warn!(error = %e, "export clean-up task failed"),
    }
}

pub async fn sweep(pool: &store::Pool, hub: &Hub) -> usize {
    let open = hub.session_ids();
    if open.is_empty() {
        return 0;
    }
    match sessions::dead_among(pool, &open).await {
        Ok(dead) => {
            let count = dead.len();
            events::publish(
                hub,
                dead.into_iter()
                    .map(|session_id| events::DomainEvent::SessionRevoked { session_id }),
            );
            if count > 0 {
                tracing::info!(sessions = count, "closed streams of ended sessions");
            }
            count
        }
        Err(e) => {
            tracing::warn!(error = %e, "session sweep failed; will retry");
            0
        }
    }
}
