//! JSON handlers: parse, call a use case, shape the answer. No logic of their own.

use axum::{
    extract::{rejection::QueryRejection, ConnectInfo, Path, Query, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{AppendHeaders, IntoResponse, Response},
    Json,
};
use std::net::SocketAddr;

use crate::server::http::{
    id_path::IdPath,
    idempotency_key::KeyHeader,
    json::ApiJson,
    openapi::{
        errors::{
            BadRequest, Forbidden, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
            Unavailable, Unprocessable, UnsupportedMediaType,
        },
        params::IdempotencyKeyHeader,
    },
};
use crate::{
    model::{
        api::{
            ArchiveBody, BroadcastBody, EventData, ExportStarted, LoginBody, NotificationPage,
            PageQuery, SendToUserBody, SignedIn, SnoozeBody, TimingBody, UnreadCount,
        },
        AnnouncementSummary, AppError, AuditEntry, Channel, Envelope, Role, Scope,
        SentAnnouncement, StreamStats, UserView,
    },
    server::{
        auth::{clear_cookie, Caller, Session},
        domain::{
            announcement::{parse_category, Announcement, AnnouncementDraft},
            inbox_action::{ArchiveIds, SnoozeUntil},
        },
        state::AppState,
        usecases::{self, auth::SignInFrom, idempotency::Once},
    },
};

// Answers: the user's own routes return `Json<T>`, the admin and service
// routes `Envelope<T>`, refusals `AppError` (an `ErrorBody`); see
// `model::api` for the rule. Each handler's `#[utoipa::path]` is its entry
// in the API document: its body types, the refusals it can answer, and who
// may call it (`openapi` names the security schemes).

/// Sign in with a username and password.
///
/// Answers the session token and sets it as the `herald_session` cookie too. An unknown user
/// and a wrong password get the same 401; repeated failures are throttled (429) without
/// locking the account's owner out.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "session",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in: the token (also set as the cookie) and the user.", body = SignedIn),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, Unavailable,
    ),
    security(())
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<
    (
        AppendHeaders<Vec<(HeaderName, HeaderValue)>>,
        Json<SignedIn>,
    ),
    AppError,
> {
    let from = SignInFrom::request(&state, Some(peer.ip()), &headers);
    let signed_in = usecases::auth::login(&state, &body.username, &body.password, &from).await?;
    let cookies = signed_in
        .cookies(state.config.secure_cookies)
        .into_iter()
        .map(|cookie| (header::SET_COOKIE, cookie))
        .collect();
    Ok((
        AppendHeaders(cookies),
        Json(SignedIn {
            token: signed_in.token,
            user: signed_in.user,
        }),
    ))
}

/// Sign out: ends this session, clears the cookie and closes the session's open streams.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "session",
    responses(
        (status = 204, description = "Signed out."),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
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

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "session",
    responses(
        (status = 200, description = "The signed-in user.", body = UserView),
        Unauthorized, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn me(session: Session) -> Json<UserView> {
    Json(session.user)
}

/// A page of the signed-in user's inbox, newest first, with their unread
/// count; with `category`, that category's notifications only.
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "inbox",
    params(PageQuery),
    responses(
        (status = 200, description = "The page; `next_before` is the cursor of the next (older) one.", body = NotificationPage),
        BadRequest, Unauthorized, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn notifications(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<NotificationPage>, AppError> {
    let Query(query) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let category = parse_category(query.category.as_deref())?;
    let (items, counts) = usecases::inbox::page(
        &state,
        &session,
        query.before,
        category.as_deref(),
        query.limit,
    )
    .await?;
    // The cursor for the next (older) page; absent once the list is exhausted.
    let next_before = items.last().map(|n| n.position);
    Ok(Json(NotificationPage {
        items,
        unread: counts.unread,
        unread_by_category: counts.by_category,
        next_before,
    }))
}

/// Mark one notification read; every tab of the user gets `notification.read`.
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/read",
    tag = "inbox",
    params(("id" = i64, Path, description = "The notification's `id`.")),
    responses(
        (status = 204, description = "Read."),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    usecases::inbox::mark_read(&state, &session, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open streams, in total and per user id.
#[utoipa::path(
    get,
    path = "/api/sse/stats",
    tag = "reading",
    responses(
        (status = 200, description = "The stream counts.", body = Envelope<StreamStats>),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read"]))
)]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<StreamStats>, AppError> {
    Ok(Envelope::ok(
        usecases::admin::stream_stats(&state, &caller).await?,
    ))
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
        category: data.category,
        data: data.data,
        actions: data.actions,
    }
    .parse()
}

/// Send an announcement to everyone, or to one role.
///
/// Stored once whatever the number of users, then delivered to every open stream of its
/// audience as `notification` (or the custom `event` name). With `send_at` it is scheduled;
/// with `expires_at` it leaves the inboxes then (`notification.removed`).
#[utoipa::path(
    post,
    path = "/api/sse/broadcast",
    tag = "publishing",
    params(IdempotencyKeyHeader),
    request_body = BroadcastBody,
    responses(
        (status = 200, description = "Sent (or scheduled).", body = Envelope<SentAnnouncement>),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["publish"]))
)]
pub async fn broadcast(
    State(state): State<AppState>,
    caller: Caller,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<BroadcastBody>,
) -> Result<Envelope<SentAnnouncement>, AppError> {
    // The scope first: a refusal never says what was wrong with the body.
    caller.require(Scope::Publish)?;
    let once = key.map(|key| Once::new(key, "broadcast", &body));
    let recipients = match body.role.as_deref() {
        None => Channel::All,
        Some(role) => Channel::Role(
            Role::parse(role).ok_or_else(|| AppError::invalid("role", "must be user or admin"))?,
        ),
    };
    let announcement = parse(body.event, body.data, body.timing)?;
    let result =
        usecases::send::send_once(&state, &caller, announcement, recipients, once.as_ref()).await?;
    Ok(Envelope::ok(result))
}

/// Send a notification to one user, named by `user_id` or by `username`.
#[utoipa::path(
    post,
    path = "/api/sse/send-to-user",
    tag = "publishing",
    params(IdempotencyKeyHeader),
    request_body = SendToUserBody,
    responses(
        (status = 200, description = "Sent (or scheduled).", body = Envelope<SentAnnouncement>),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["publish"]))
)]
pub async fn send_to_user(
    State(state): State<AppState>,
    caller: Caller,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<SendToUserBody>,
) -> Result<Envelope<SentAnnouncement>, AppError> {
    caller.require(Scope::Publish)?;
    let once = key.map(|key| Once::new(key, "send-to-user", &body));
    let recipients = match (body.user_id, body.username.as_deref()) {
        (Some(user_id), None) => Channel::User(user_id),
        (None, Some(name)) => usecases::send::user_named(&state, &caller, name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {name:?}")))?,
        _ => {
            return Err(AppError::invalid(
                "user_id",
                "give the recipient as user_id or as username (one of the two)",
            ))
        }
    };
    let result = usecases::send::send_once(
        &state,
        &caller,
        parse(body.event, body.data, body.timing)?,
        recipients,
        once.as_ref(),
    )
    .await?;
    Ok(Envelope::ok(result))
}

/// Start exporting the signed-in user's inbox as CSV.
///
/// `progress` events follow on the user's streams; the last is a `notification` whose `link`
/// is the file (`GET /api/exports/{task_id}`).
#[utoipa::path(
    post,
    path = "/api/exports",
    tag = "inbox",
    params(IdempotencyKeyHeader),
    responses(
        (status = 202, description = "Started: the task whose `progress` events follow.", body = Envelope<ExportStarted>),
        BadRequest, Unauthorized, Forbidden, Unprocessable, TooManyRequests, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn start_export(
    State(state): State<AppState>,
    session: Session,
    KeyHeader(key): KeyHeader,
) -> Result<(StatusCode, Envelope<ExportStarted>), AppError> {
    session.require_own_page()?;
    // The request has no body: the route is all there is to match.
    let once = key.map(|key| Once::new(key, "export", &()));
    let task_id = usecases::export::start_once(&state, &session, once.as_ref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Envelope::ok(ExportStarted { task_id }),
    ))
}

/// Download a finished export (CSV), the signed-in user's own only.
#[utoipa::path(
    get,
    path = "/api/exports/{task_id}",
    tag = "inbox",
    params(("task_id" = String, Path, description = "From `POST /api/exports`.")),
    responses(
        (status = 200, description = "The inbox as CSV.", body = String, content_type = "text/csv"),
        Unauthorized, NotFound, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn export_result(
    State(state): State<AppState>,
    session: Session,
    Path(task_id): Path<String>,
) -> Result<Response, AppError> {
    session.require_own_page()?;
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

/// Archive one notification: out of the inbox, read.
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/archive",
    tag = "inbox",
    params(("id" = i64, Path, description = "The notification's `id`.")),
    responses(
        (status = 200, description = "The new unread count.", body = UnreadCount),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn archive(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
) -> Result<Json<UnreadCount>, AppError> {
    let unread = usecases::inbox::archive(&state, &session, id).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Snooze one notification: out of the inbox and the count until `until`,
/// then back at the top, unread, in every tab.
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/snooze",
    tag = "inbox",
    params(("id" = i64, Path, description = "The notification's `id`.")),
    request_body = SnoozeBody,
    responses(
        (status = 200, description = "The new unread count.", body = UnreadCount),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn snooze(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SnoozeBody>,
) -> Result<Json<UnreadCount>, AppError> {
    let until = SnoozeUntil::parse(&body.until, crate::server::store::now_ms())?;
    let unread = usecases::inbox::snooze(&state, &session, id, until).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Archive everything read, in one request (the unread count does not move).
#[utoipa::path(
    post,
    path = "/api/notifications/archive-read",
    tag = "inbox",
    responses(
        (status = 200, description = "The unread count.", body = UnreadCount),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn archive_read(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<UnreadCount>, AppError> {
    let unread = usecases::inbox::archive_read(&state, &session).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Archive several notifications (1 to 100 ids) in one request: all or none.
#[utoipa::path(
    post,
    path = "/api/notifications/archive",
    tag = "inbox",
    request_body = ArchiveBody,
    responses(
        (status = 200, description = "The new unread count.", body = UnreadCount),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unavailable,
    ),
    security(("session_cookie" = []), ("session_bearer" = []))
)]
pub async fn archive_many(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<ArchiveBody>,
) -> Result<Json<UnreadCount>, AppError> {
    let ids = ArchiveIds::parse(body.ids)?;
    let unread = usecases::inbox::archive_many(&state, &session, ids).await?;
    Ok(Json(UnreadCount { unread }))
}

/// The announcements sent, newest first, each with its funnel (recipients, delivered, read).
#[utoipa::path(
    get,
    path = "/api/announcements",
    tag = "reading",
    responses(
        (status = 200, description = "The history.", body = Envelope<Vec<AnnouncementSummary>>),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read"]))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<AnnouncementSummary>>, AppError> {
    Ok(Envelope::ok(
        usecases::admin::history(&state, &caller).await?,
    ))
}

/// Retract an announcement: it leaves every inbox, live (`notification.removed`).
#[utoipa::path(
    delete,
    path = "/api/announcements/{id}",
    tag = "publishing",
    params(("id" = i64, Path, description = "The announcement's `id`.")),
    responses(
        (status = 204, description = "Retracted."),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["publish"]))
)]
pub async fn retract(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    usecases::retract::retract(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who did what, newest first.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "reading",
    responses(
        (status = 200, description = "The audit log.", body = Envelope<Vec<AuditEntry>>),
        Unauthorized, Forbidden, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["read"]))
)]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<AuditEntry>>, AppError> {
    Ok(Envelope::ok(
        usecases::admin::audit_log(&state, &caller).await?,
    ))
}
