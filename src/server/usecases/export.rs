//! The demo export: a long-running job that streams `progress` events to the
//! user who started it, then leaves a notification linking to the result (a
//! CSV of their inbox, readable only by them).

use std::{path::PathBuf, time::Duration};

use super::announce::notify_user;
use crate::{
    model::{AppError, Severity},
    server::{
        auth::Session,
        events::{self, DomainEvent},
        hub::EventName,
        state::AppState,
        store::notifications::{self, NewAnnouncement},
    },
};

const STEPS: u8 = 10;
/// Most of an inbox anyone would export; keeps the job bounded.
const MAX_ROWS: i64 = 10_000;

/// Starts the export in the background; returns its task id.
pub async fn start(state: &AppState, session: &Session) -> Result<String, AppError> {
    let task_id = random_task_id()?;
    let state = state.clone();
    let user_id = session.user.id;
    let id = task_id.clone();
    tokio::spawn(async move {
        if let Err(err) = run(&state, user_id, &id).await {
            tracing::error!(task_id = %id, error = %err, "export failed");
            progress(&state, user_id, &id, 100, "failed");
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

async fn run(state: &AppState, user_id: i64, task_id: &str) -> Result<(), AppError> {
    let step = state.config.export_step;
    let mut tick = tokio::time::interval(step.max(Duration::from_millis(1)));
    for n in 0..STEPS {
        tick.tick().await;
        progress(state, user_id, task_id, n * (100 / STEPS), "running");
    }
    let rows = notifications::page(&state.pool, user_id, None, MAX_ROWS).await?;
    let mut csv = String::from("id,seq,created_at,severity,read,title,body\n");
    for n in &rows {
        let fields = [
            n.id.to_string(),
            n.seq.to_string(),
            n.created_at.clone(),
            n.severity.as_str().to_string(),
            n.read.to_string(),
            n.title.clone(),
            n.body.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let path = file_for(state, user_id, task_id);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::write(&path, csv).await.map_err(io_error)?;
    progress(state, user_id, task_id, 100, "done");

    let done = NewAnnouncement {
        sender_id: None,
        event: EventName::NOTIFICATION.as_str().to_string(),
        title: "Your export is ready".into(),
        body: format!("{} notifications, as CSV.", rows.len()),
        severity: Severity::Info,
        link: Some(format!("/api/exports/{task_id}")),
    };
    notify_user(state, &done, user_id).await?;
    Ok(())
}

fn progress(state: &AppState, user_id: i64, task_id: &str, progress: u8, status: &str) {
    events::publish(
        &state.hub,
        [DomainEvent::Progress {
            user_id,
            task_id: task_id.to_string(),
            progress,
            status: status.to_string(),
        }],
    );
}

fn file_for(state: &AppState, user_id: i64, task_id: &str) -> PathBuf {
    state
        .config
        .data_dir()
        .join("exports")
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
    let mut raw = [0u8; 8];
    getrandom::getrandom(&mut raw).map_err(|_| AppError::Internal)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
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
