//! A user's preferences (issue 19): muted categories and desktop alerts.
//!
//! Muting is applied where counts are computed, never at publish: the
//! count query folds the user's muted categories into the badge
//! (`notifications::counts_in`), and a live counter holds the muted set and
//! leaves muted, non-critical entries out of the badge as it applies them
//! (`hub/unread.rs`). Saving preferences goes through the `Publisher` like
//! a read: its transaction computes the badge under the new mutes, exact
//! at its place in the log, and every tab of the user (on every instance)
//! takes it with the `preferences` event.

use crate::{
    model::{AppError, Preferences, PreferencesEvent},
    server::{
        auth::Session,
        delivery::events::DomainEvent,
        domain::{announcement::parse_category, escalation::parse_escalation},
        state::AppState,
        store::{self, categories, notifications, preferences},
    },
};

/// At most this many slugs in each list.
const LIST_MAX: usize = 100;

pub async fn get(state: &AppState, session: &Session) -> Result<Preferences, AppError> {
    let mut tx = store::begin_read(&state.pool).await?;
    let prefs = preferences::get(&mut tx, session.user.id).await?;
    tx.commit().await?;
    Ok(prefs)
}

/// Replaces the user's preferences; returns them with the counts under
/// them (what every tab of theirs is sent).
pub async fn put(
    state: &AppState,
    session: &Session,
    wanted: Preferences,
) -> Result<PreferencesEvent, AppError> {
    let muted = slugs("muted", wanted.muted)?;
    let desktop = slugs("desktop", wanted.desktop)?;
    let escalation = wanted
        .escalation
        .map(|e| parse_escalation("escalation", e, state.config.escalate_min_secs))
        .transpose()?;
    let user_id = session.user.id;
    let mut turn = state.publisher.begin().await?;
    for (field, list) in [("muted", &muted), ("desktop", &desktop)] {
        let known = categories::known(turn.tx(), list).await?;
        if let Some(unknown) = list.iter().find(|s| !known.contains(s)) {
            return Err(AppError::invalid(
                field,
                format!("no category named {unknown:?}"),
            ));
        }
    }
    let prefs = Preferences {
        muted,
        desktop,
        escalation,
    };
    preferences::put(turn.tx(), user_id, &prefs).await?;
    // What was saved, the kept escalation included.
    let prefs = preferences::get(turn.tx(), user_id).await?;
    let counts = notifications::counts_in(turn.tx(), user_id).await?;
    let event = PreferencesEvent {
        preferences: prefs,
        unread_by_category: counts.by_category,
        unread: counts.unread,
    };
    turn.commit([DomainEvent::PreferencesChanged {
        user_id,
        preferences: event.clone(),
    }])
    .await?;
    Ok(event)
}

/// A list of category slugs: each checked, duplicates dropped, sorted.
fn slugs(field: &str, raw: Vec<String>) -> Result<Vec<String>, AppError> {
    if raw.len() > LIST_MAX {
        return Err(AppError::invalid(
            field,
            format!("at most {LIST_MAX} categories"),
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    for slug in raw {
        let slug = parse_category(Some(&slug))
            .map_err(|_| AppError::invalid(field, format!("{slug:?} is not a category's slug")))?
            .ok_or_else(|| AppError::invalid(field, "holds an empty slug"))?;
        out.push(slug);
    }
    out.sort();
    out.dedup();
    Ok(out)
}
