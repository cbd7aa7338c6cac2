//! The demo export: a long-running job that streams `progress` events to the
//! user who started it, then leaves a notification linking to the result (a
//! CSV of their inbox, readable only by them).
//!
//! Limits: at most `state::EXPORTS_PER_USER` exports run per user at once (429
//! beyond); files are 0600 in a 0700 directory and are deleted by the
//! sweeper once older than `HERALD_EXPORT_RETENTION_HOURS`; the "ready"
//! notification is Herald's own, so it stays out of the admin's history.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use crate::server::usecases::{
    idempotency::{self, Once},
    notices,
};
use crate::{
    model::AppError,
    server::{
        auth::Session,
        guard::per_user::Slot,
        private_files,
        state::AppState,
        store::{self, notifications},
    },
};

const STEPS: u8 = 10;
/// Most of an inbox anyone would export; keeps the job bounded.
const MAX_ROWS: i64 = 10_000;
/// Starts the export in the background; returns its task id.
pub async fn start(state: &AppState, session: &Session) -> Result<String, AppError> {
    start_once(state, session, None).await
}

/// [`start`], keyed: a retry with the same `Idempotency-Key` gets the first
/// task id back instead of starting a second export.
pub async fn start_once(
    state: &AppState,
    session: &Session,
    once: Option<&Once>,
) -> Result<String, AppError> {
    let user_id = session.user.id;
    let owner = session.owner();
    if let Some(once) = once {
        if let Some(first) = idempotency::first_result(&state.pool, &owner, once).await? {
            return Ok(first);
        }
    }
    let slot = state.exports.claim(user_id).ok_or_else(|| {
        AppError::LimitReached(format!(
            "you already have {} exports running; wait for one to finish",
            state.exports.max()
        ))
    })?;
    let task_id = random_task_id()?;
    if let Some(once) = once {
        let mut tx = store::begin_write(&state.pool).await?;
        if !idempotency::keep(&mut tx, &owner, once, &task_id).await? {
            drop(tx);
            drop(slot);
            return idempotency::answer_of_winner(&state.pool, &owner, once).await;
        }
        store::commit(tx).await?;
    }
    let state = state.clone();
    let id = task_id.clone();
    tokio::spawn(async move {
        if let Err(err) = run(&state, user_id, &id, slot).await {
            tracing::error!(task_id = %id, error = %err, "export failed");
            progress(&state, user_id, &id, 100, "failed").await;
        }
    });
    Ok(task_id)
}

/// The CSV of a finished export, if it is this user's.
pub async fn result(
    state: &AppState,
    session: &Session,
    task_id: &str,
) -> Result<Vec<u8>, AppError> {
    if !is_task_id(task_id) {
        return Err(AppError::NotFound("export".into()));
    }
    let path = file_for(state, session.user.id, task_id);
    tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::NotFound("export".into()))
}

/// Deletes export files last written before `retention` ago; returns how
/// many. Run by the sweeper.
pub fn delete_expired(dir: &Path, retention: Duration) -> std::io::Result<usize> {
    let Some(cutoff) = SystemTime::now().checked_sub(retention) else {
        return Ok(0);
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut deleted = 0;
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        let is_export = entry.path().extension().is_some_and(|ext| ext == "csv");
        if meta.is_file() && is_export && meta.modified()? < cutoff {
            std::fs::remove_file(entry.path())?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

async fn run(state: &AppState, user_id: i64, task_id: &str, slot: Slot) -> Result<(), AppError> {
    let step = state.config.export_step;
    let mut tick = tokio::time::interval(step.max(Duration::from_millis(1)));
    for n in 0..STEPS {
        tick.tick().await;
        progress(state, user_id, task_id, n * (100 / STEPS), "running").await;
    }
    let rows = notifications::inbox(&state.pool, user_id, None, None, MAX_ROWS)
        .await?
        .items;
    // Issue 19's columns go last, so readers of the older ones keep working.
    let mut csv =
        String::from("id,seq,created_at,severity,read,title,body,category,data,actions\n");
    for n in &rows {
        let fields = [
            n.id.to_string(),
            n.position.to_string(),
            n.created_at.clone(),
            n.severity.as_str().to_string(),
            n.read.to_string(),
            n.title.clone(),
            n.body.clone(),
            n.category.clone().unwrap_or_default(),
            n.data.as_ref().map(|d| d.to_string()).unwrap_or_default(),
            if n.actions.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&n.actions).unwrap_or_default()
            },
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let path = file_for(state, user_id, task_id);
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            private_files::create_dir_all(dir)?;
        }
        private_files::write(&path, csv.as_bytes())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(io_error)?;
    // The work is done: the user may start another before hearing so.
    drop(slot);
    progress(state, user_id, task_id, 100, "done").await;
    notices::export_ready(state, user_id, task_id, rows.len()).await
}

async fn progress(state: &AppState, user_id: i64, task_id: &str, progress: u8, status: &str) {
    state
        .publisher
        .progress(user_id, task_id, progress, status)
        .await;
}

fn file_for(state: &AppState, user_id: i64, task_id: &str) -> PathBuf {
    state
        .config
        .exports_dir()
        .join(format!("{user_id}-{task_id}.csv"))
}

/// Quotes every field, and defuses spreadsheet formulas (`=`, `+`, `-`, `@`).
fn csv_field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

fn random_task_id() -> Result<String, AppError> {
    crate::server::random::hex_id(8).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a task id");
        AppError::Internal
    })
}

fn is_task_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn io_error(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "export file");
    AppError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a \"b\", c"), "\"a \"\"b\"\", c\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert!(is_task_id("0123456789abcdef"));
        assert!(!is_task_id("../../etc/passwd"));
    }
}
