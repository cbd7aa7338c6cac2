//! What the admin console reads: history with its funnel, the audit log,
//! users to pick from, live hub numbers. Admins only.

use crate::{
    model::{AnnouncementSummary, AppError, AuditEntry, UserView},
    server::{
        auth::Session,
        hub::HubStats,
        state::AppState,
        store::{announcements, audit},
    },
};

use super::require_admin;

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
        users: super::accounts::list_users(&state.pool).await?,
        stats: state.hub.stats(),
    })
}

pub struct ConsoleData {
    pub history: Vec<AnnouncementSummary>,
    pub audit: Vec<AuditEntry>,
    pub users: Vec<UserView>,
    pub stats: HubStats,
}
