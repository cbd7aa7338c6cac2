//! Categories (issue 19): every signed-in user reads the list (the inbox's
//! tabs, the preferences page); admins create and rename them. A send
//! creates an unknown one on first use (`store::announcements::insert`).

use crate::{
    model::{category::CATEGORY_LABEL_MAX, AppError, Category, Escalation},
    server::{
        auth::Session,
        domain::{announcement::parse_category, at_most, escalation::parse_escalation},
        state::AppState,
        store::categories,
        usecases::require_admin,
    },
};

pub async fn list(state: &AppState, _session: &Session) -> Result<Vec<Category>, AppError> {
    Ok(categories::list(&state.pool).await?)
}

/// Creates the category `slug`, or renames it to `label`; with
/// `escalation`, also sets whether (and after how long) it escalates.
pub async fn set_label(
    state: &AppState,
    session: &Session,
    slug: &str,
    label: &str,
    escalation: Option<Escalation>,
) -> Result<Category, AppError> {
    require_admin(session)?;
    let slug =
        parse_category(Some(slug))?.ok_or_else(|| AppError::invalid("category", "is required"))?;
    let label = label.trim();
    if label.is_empty() {
        return Err(AppError::invalid("label", "is required"));
    }
    at_most("label", label, CATEGORY_LABEL_MAX)?;
    let escalation = escalation
        .map(|e| parse_escalation("escalation", e, state.config.escalate_min_secs))
        .transpose()?;
    Ok(categories::set_label(&state.pool, &slug, label, escalation).await?)
}
