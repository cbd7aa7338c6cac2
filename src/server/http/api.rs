//! JSON handlers: parse, call a use case, shape the answer. No logic of their own.

use axum::{
    extract::{
        rejection::{PathRejection, QueryRejection},
        ConnectInfo, Path, Query, State,
    },
    http::{header, HeaderMap, StatusCode},
    response::{AppendHeaders, IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;

use crate::server::http::{idempotency_key::KeyHeader, json::ApiJson};
use crate::{
    model::{AppError, Role, SentAnnouncement, UserView},
    server::{
        auth::{clear_cookie, Admin, Session},
        domain::announcement::{Announcement, AnnouncementDraft},
        state::AppState,
        store::notifications::Recipients,
        usecases::{self, auth::SignInFrom, idempotency::Once},
    },
};

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, AppError> {
    let from = SignInFrom::request(&state, Some(peer.ip()), &headers);
    let signed_in = usecases::auth::login(&state, &body.username, &body.password, &from).await?;
    let cookies = signed_in
        .cookies(state.config.secure_cookies)
        .into_iter()
        .map(|cookie| (header::SET_COOKIE, cookie));
    Ok((
        AppendHeaders(cookies),
        Json(json!({ "token": signed_in.token, "user": signed_in.user })),
    )
        .into_response())
}

pub async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    usecases::auth::logout(&state, &session).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            clear_cookie(state.config.secure_cookies),
        )],
    )
        .into_response())
}

pub async fn me(session: Session) -> Json<UserView> {
    Json(session.user)
}

#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn notifications(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let (items, unread) =
        usecases::inbox::page(&state, &session, query.before, query.limit).await?;
    // The cursor for the next (older) page; absent once the list is exhausted.
    let next_before = items.last().map(|n| n.seq);
    Ok(
        Json(json!({ "items": items, "unread": unread, "next_before": next_before }))
            .into_response(),
    )
}

pub async fn mark_read(
    State(state): State<AppState>,
    session: Session,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|_| AppError::invalid("id", "must be a notification id"))?;
    usecases::inbox::mark_read(&state, &session, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn mark_all_read(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let unread = usecases::inbox::mark_all_read(&state, &session).await?;
    Ok(Json(json!({ "unread": unread })).into_response())
}

pub async fn stats(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let stats = usecases::admin::stream_stats(&state).await?;
    Ok(Json(json!({ "success": true, "data": stats })).into_response())
}

// The publishing bodies are also serialised: their parsed form is what an
// `Idempotency-Key` is matched against.

/// `data` of an admin's event: what every inbox shows.
#[derive(Deserialize, Serialize)]
pub struct EventData {
    title: String,
    #[serde(default)]
    body: String,
    severity: Option<String>,
    link: Option<String>,
}

#[derive(Deserialize, Serialize)]
pub struct BroadcastBody {
    event: Option<String>,
    /// Only users with this role; everyone when absent.
    role: Option<String>,
    data: EventData,
    #[serde(flatten)]
    timing: TimingBody,
}

/// Optional schedule: RFC 3339 times.
#[derive(Deserialize, Serialize, Default)]
pub struct TimingBody {
    send_at: Option<String>,
    expires_at: Option<String>,
}

#[derive(Deserialize, Serialize)]
pub struct SendToUserBody {
    user_id: i64,
    event: Option<String>,
    data: EventData,
    #[serde(flatten)]
    timing: TimingBody,
}

fn parse(
    event: Option<String>,
    data: EventData,
    timing: TimingBody,
) -> Result<Announcement, AppError> {
    AnnouncementDraft {
        event,
        title: data.title,
        body: data.body,
        severity: data.severity,
        link: data.link,
        send_at: timing.send_at,
        expires_at: timing.expires_at,
    }
    .parse()
}

fn sent(result: SentAnnouncement) -> Response {
    Json(json!({ "success": true, "data": result })).into_response()
}

pub async fn broadcast(
    State(state): State<AppState>,
    Admin(admin): Admin,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<BroadcastBody>,
) -> Result<Response, AppError> {
    let once = key.map(|key| Once::new(key, "broadcast", &body));
    let recipients = match body.role.as_deref() {
        None => Recipients::All,
        Some(role) => Recipients::Role(
            Role::parse(role).ok_or_else(|| AppError::invalid("role", "must be user or admin"))?,
        ),
    };
    let announcement = parse(body.event, body.data, body.timing)?;
    let result =
        usecases::send::send_once(&state, &admin, announcement, recipients, once.as_ref()).await?;
    Ok(sent(result))
}

pub async fn send_to_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<SendToUserBody>,
) -> Result<Response, AppError> {
    let once = key.map(|key| Once::new(key, "send-to-user", &body));
    let recipients = Recipients::User(body.user_id);
    let result = usecases::send::send_once(
        &state,
        &admin,
        parse(body.event, body.data, body.timing)?,
        recipients,
        once.as_ref(),
    )
    .await?;
    Ok(sent(result))
}

pub async fn start_export(
    State(state): State<AppState>,
    session: Session,
    KeyHeader(key): KeyHeader,
) -> Result<Response, AppError> {
    // The request has no body: the route is all there is to match.
    let once = key.map(|key| Once::new(key, "export", &()));
    let task_id = usecases::export::start_once(&state, &session, once.as_ref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "success": true, "data": { "task_id": task_id } })),
    )
        .into_response())
}

pub async fn export_result(
    State(state): State<AppState>,
    session: Session,
    Path(task_id): Path<String>,
) -> Result<Response, AppError> {
    let csv = usecases::export::result(&state, &session, &task_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"herald-inbox.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

pub async fn archive(
    State(state): State<AppState>,
    session: Session,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|_| AppError::invalid("id", "must be a notification id"))?;
    let unread = usecases::inbox::archive(&state, &session, id).await?;
    Ok(Json(json!({ "unread": unread })).into_response())
}

pub async fn history(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Response, AppError> {
    let items = usecases::admin::history(&state, &admin).await?;
    Ok(Json(json!({ "success": true, "data": items })).into_response())
}

pub async fn retract(
    State(state): State<AppState>,
    Admin(admin): Admin,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|_| AppError::invalid("id", "must be an announcement id"))?;
    usecases::retract::retract(&state, &admin, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn audit_log(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Response, AppError> {
    let items = usecases::admin::audit_log(&state, &admin).await?;
    Ok(Json(json!({ "success": true, "data": items })).into_response())
}
