//! Email escalation's pass (`usecases::escalation`), every
//! `HERALD_ESCALATE_TICK_MS`, when `HERALD_SMTP_URL` is set. Every instance
//! of a cluster runs it: users are leased, so each digest goes out once.
//! An idle pass costs two indexed probes (the due head, the lease).

use crate::server::{mail::Mailer, periodic, state::AppState, usecases::escalation};

pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let config = state.config.escalation.clone()?;
    let mailer = match Mailer::new(&config) {
        Ok(mailer) => mailer,
        Err(e) => {
            // The configuration was checked at start-up; this is not expected.
            tracing::error!(error = %e, "email escalation not started");
            return None;
        }
    };
    tracing::info!(
        after_secs = config.after.as_secs(),
        from = %config.from,
        "email escalation on"
    );
    Some(periodic::every(config.tick, move || {
        let (state, mailer, config) = (state.clone(), mailer.clone(), config.clone());
        async move {
            match escalation::pass(&state, &mailer, &config).await {
                Ok(report) if report.sent + report.failed > 0 => {
                    tracing::info!(
                        users = report.users,
                        sent = report.sent,
                        failed = report.failed,
                        "escalation pass"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "escalation pass failed; will retry"),
            }
        }
    }))
}
