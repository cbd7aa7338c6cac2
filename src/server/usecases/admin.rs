//! What the admin console reads: history with its funnel, the audit log,
//! users to pick from, live hub numbers. Admins only.

use crate::{
    model::{AnnouncementSummary, AppError, AuditEntry, UserView},
    server::{
        auth::Session,
        delivery::hub::HubStats,
        state::AppState,
        store::{announcements, audit},
    },
};

use crate::server::usecases::require_admin;

const HISTORY: i64 = 50;
const AUDIT: i64 = 100;

pub async fn history(
    state: &AppState,
    session: &Session,
) -> Result<Vec<AnnouncementSummary>, AppError> {
    require_admin(session)?;
    Ok(announcements::history(&state.pool, HISTORY).await?)
}

pub async fn audit_log(state: &AppState, session: &Session) -> Result<Vec<AuditEntry>, AppError> {
    require_admin(session)?;
    Ok(audit::newest(&state.pool, AUDIT).await?)
}

/// Everything the console shows, in one call.
pub async fn console(state: &AppState, session: &Session) -> Result<ConsoleData, AppError> {
    Ok(ConsoleData {
        history: history(state, session).await?,
        audit: audit_log(state, session).await?,
        users: crate::server::usecases::accounts::list_users(&state.pool).await?,
        stats: stream_stats(state).await?,
    })
}

/// Open streams, per user and in total: this instance's, plus on
/// PostgreSQL those of every other live instance (their heartbeats).
pub async fn stream_stats(state: &AppState) -> Result<HubStats, AppError> {
    let mut stats = state.hub.stats();
    let (total, users) = state.publisher.backplane().elsewhere().await?;
    stats.total_clients += total as usize;
    for (user, n) in users {
        *stats.user_clients.entry(user).or_default() += n;
    }
    Ok(stats)
}

pub struct ConsoleData {
    pub history: Vec<AnnouncementSummary>,
    pub audit: Vec<AuditEntry>,
    pub users: Vec<UserView>,
    pub stats: HubStats,
}
