//! The audit log: who did what to whom, and when.

use crate::model::AuditEntry;
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, rfc3339, Pool, StoreError, Tx,
};

/// Who acted: a signed-in user, or the CLI / Herald itself (`actor_id` None).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: Option<i64>,
    pub name: &'a str,
}

/// Written inside the transaction of what it records, so the log and the
/// change commit (or fail) together.
pub async fn record(
    tx: &mut Tx,
    actor: Actor<'_>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    execute!(
        tx,
        "INSERT INTO audit_log (actor_id, actor, action, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        actor.id,
        actor.name,
        action,
        target,
        detail,
        now_ms()
    )?;
    Ok(())
}

pub async fn newest(pool: &Pool, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(i64, String, String, String, String, i64)> = fetch!(
        conn,
        fetch_all,
        (i64, String, String, String, String, i64),
        "SELECT id, actor, action, target, detail, created_at FROM audit_log ORDER BY id DESC LIMIT ?",
        limit
    )?;
    Ok(rows
        .into_iter()
        .map(|(id, actor, action, target, detail, at)| AuditEntry {
            id,
            actor,
            action,
            target,
            detail,
            created_at: rfc3339(at),
        })
        .collect())
}
