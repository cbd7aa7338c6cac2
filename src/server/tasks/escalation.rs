//! Escalation's pass (`usecases::escalation`), every
//! `HERALD_ESCALATE_TICK_MS`, when `HERALD_SMTP_URL` is set (email) or the
//! server has a VAPID key (Web Push). Every instance of a cluster runs it:
//! users are leased, so each digest goes out once. An idle pass costs two
//! indexed probes (the due head, the lease).

use crate::server::{
    mail::Mailer,
    periodic,
    push::Pusher,
    state::AppState,
    usecases::escalation::{self, Outlets},
};

pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let config = state.config.escalation.clone()?;
    let mailer = match config.smtp.as_ref().map(Mailer::new).transpose() {
        Ok(mailer) => mailer,
        Err(e) => {
            // The configuration was checked at start-up; this is not expected.
            tracing::error!(error = %e, "email escalation not started");
            return None;
        }
    };
    let pusher = match state
        .push
        .clone()
        .map(|vapid| Pusher::new(vapid, state.config.webhook_allow_private))
        .transpose()
    {
        Ok(pusher) => pusher,
        Err(e) => {
            tracing::error!(error = %e, "web push not started");
            None
        }
    };
    if mailer.is_none() && pusher.is_none() {
        return None;
    }
    tracing::info!(
        after_secs = config.after.as_secs(),
        email = mailer.is_some(),
        push = pusher.is_some(),
        "escalation on"
    );
    Some(periodic::every(config.tick, move || {
        let (state, mailer, pusher, config) = (
            state.clone(),
            mailer.clone(),
            pusher.clone(),
            config.clone(),
        );
        async move {
            let outlets = Outlets {
                mailer: mailer.as_ref(),
                pusher: pusher.as_ref(),
            };
            match escalation::pass(&state, outlets, &config).await {
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
