//! What the admin console reads: history with its funnel, the audit log,
//! users to pick from, live hub numbers. Admins, and keys with the `read`
//! scope (all but the console's user list).

use crate::{
    model::{AnnouncementSummary, AppError, AuditEntry, Scope, UserView},
    server::{
        auth::{Caller, Session},
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
    caller: &Caller,
) -> Result<Vec<AnnouncementSummary>, AppError> {
    caller.require(Scope::Read)?;
    Ok(announcements::history(&state.pool, HISTORY).await?)
}

pub async fn audit_log(state: &AppState, caller: &Caller) -> Result<Vec<AuditEntry>, AppError> {
    caller.require(Scope::Read)?;
    Ok(audit::newest(&state.pool, AUDIT).await?)
}

/// Everything the console shows, in one call.
pub async fn console(state: &AppState, session: &Session) -> Result<ConsoleData, AppError> {
    require_admin(session)?;
    let admin = Caller::User(session.clone());
    Ok(ConsoleData {
        history: history(state, &admin).await?,
        audit: audit_log(state, &admin).await?,
        users: crate::server::usecases::accounts::list_users(&state.pool).await?,
        stats: stream_stats(state, &admin).await?,
    })
}

/// Open streams, per user and in total: this instance's, plus on
/// PostgreSQL those of every other live instance (their heartbeats).
pub async fn stream_stats(state: &AppState, caller: &Caller) -> Result<HubStats, AppError> {
    caller.require(Scope::Read)?;
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
