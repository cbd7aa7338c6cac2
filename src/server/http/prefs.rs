//! Issue 19's routes: categories, a user's preferences, a click on an
//! action, and reading one category. User routes take a `Session` (an API
//! key is never a user); renaming a category is an admin's.

use axum::{
    extract::{Path, State},
    Json,
};

use crate::{
    model::{
        api::UnreadCount,
        category::{CategoryLabelBody, ClickBody},
        AppError, Category, Clicked, Preferences, PreferencesEvent, ReadAllBody,
    },
    server::{
        auth::Session,
        domain::announcement::parse_category,
        http::{
            id_path::IdPath,
            json::{ApiJson, OptionalJson},
            openapi::errors::{
                BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
                UnsupportedMediaType,
            },
        },
        state::AppState,
        usecases,
    },
};

/// Every category (the inbox's tabs, the preferences page).
#[utoipa::path(
    get,
    path = "/api/categories",
    tag = "inbox",
    responses(
        (status = 200, description = "The categories, by slug.", body = Vec<Category>),
        Unauthorized, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn categories(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Category>>, AppError> {
    Ok(Json(usecases::categories::list(&state, &session).await?))
}

/// Create a category, or rename it (an admin); `escalation` (optional, kept when absent)
/// turns its email escalation off or gives it its own delay (60 s to a week).
#[utoipa::path(
    put,
    path = "/api/categories/{slug}",
    tag = "publishing",
    params(("slug" = String, Path, description = "The category's slug.")),
    request_body = CategoryLabelBody,
    responses(
        (status = 200, description = "The category as it now is.", body = Category),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]))
)]
pub async fn set_category(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CategoryLabelBody>,
) -> Result<Json<Category>, AppError> {
    let category =
        usecases::categories::set_label(&state, &session, &slug, &body.label, body.escalation)
            .await?;
    Ok(Json(category))
}

/// The signed-in user's preferences.
#[utoipa::path(
    get,
    path = "/api/preferences",
    tag = "inbox",
    responses(
        (status = 200, description = "Muted categories, desktop alerts and email escalation.", body = Preferences),
        Unauthorized, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn get_preferences(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(usecases::preferences::get(&state, &session).await?))
}

/// Replace the signed-in user's preferences.
///
/// A muted category raises no toast, no system notification and no badge count (`unread`
/// leaves it out; its tab still counts it); `critical` notifications are never muted. Every
/// tab of the user gets a `preferences` event with the new counts. `escalation` (optional,
/// kept when absent) turns email escalation off for this user or sets their own delay.
#[utoipa::path(
    put,
    path = "/api/preferences",
    tag = "inbox",
    request_body = Preferences,
    responses(
        (status = 200, description = "The preferences saved, with the counts under them.", body = PreferencesEvent),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn put_preferences(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<Preferences>,
) -> Result<Json<PreferencesEvent>, AppError> {
    Ok(Json(
        usecases::preferences::put(&state, &session, body).await?,
    ))
}

/// Record a click on one of a notification's actions (once per user: later clicks count nothing).
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/click",
    tag = "inbox",
    params(("id" = i64, Path, description = "The notification's `id`.")),
    request_body(content = ClickBody, description = "Which action (0 when left out)."),
    responses(
        (status = 200, description = "Recorded; `first` says whether it was the user's first click on it.", body = Clicked),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn click(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
    OptionalJson(body): OptionalJson<ClickBody>,
) -> Result<Json<Clicked>, AppError> {
    let first = usecases::inbox::click(&state, &session, id, body.action).await?;
    Ok(Json(Clicked { first }))
}

/// Mark everything in the inbox read, or everything of one `category`.
///
/// One request, one log entry: every tab gets one `notification.read` (with `category` when
/// only that one was read) and the exact counts after it.
#[utoipa::path(
    post,
    path = "/api/notifications/read-all",
    tag = "inbox",
    request_body(content = ReadAllBody, description = "Optional: only this category."),
    responses(
        (status = 200, description = "The new unread count (the badge).", body = UnreadCount),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn mark_all_read(
    State(state): State<AppState>,
    session: Session,
    OptionalJson(body): OptionalJson<ReadAllBody>,
) -> Result<Json<UnreadCount>, AppError> {
    let category = parse_category(body.category.as_deref())?;
    let unread = usecases::inbox::mark_all_read(&state, &session, category.as_deref()).await?;
    Ok(Json(UnreadCount { unread }))
}
