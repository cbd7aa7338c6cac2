//! Categories (issue 19): every signed-in user reads the list (the inbox's
//! tabs, the preferences page); admins create and rename them. A send
//! creates an unknown one on first use (`store::announcements::insert`).

use crate::{
    model::{category::CATEGORY_LABEL_MAX, AppError, Category},
    server::{
        auth::Session,
        domain::{announcement::parse_category, at_most},
        state::AppState,
        store::categories,
        usecases::require_admin,
    },
};

pub async fn list(state: &AppState, _session: &Session) -> Result<Vec<Category>, AppError> {
    Ok(categories::list(&state.pool).await?)
}

/// Creates the category `slug`, or renames it to `label`.
pub async fn set_label(
    state: &AppState,
    session: &Session,
    slug: &str,
    label: &str,
) -> Result<Category, AppError> {
    require_admin(session)?;
    let slug =
        parse_category(Some(slug))?.ok_or_else(|| AppError::invalid("category", "is required"))?;
    let label = label.trim();
    if label.is_empty() {
        return Err(AppError::invalid("label", "is required"));
    }
    at_most("label", label, CATEGORY_LABEL_MAX)?;
    categories::set_label(&state.pool, &slug, label).await?;
    Ok(Category {
        slug,
        label: label.to_string(),
    })
}
