//! JSON handlers: parse, call a use case, shape the answer. No logic of their own.

use axum::{
    extract::{rejection::QueryRejection, ConnectInfo, Path, Query, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{AppendHeaders, IntoResponse, Response},
    Json,
};
use std::net::SocketAddr;

use crate::server::http::{id_path::IdPath, idempotency_key::KeyHeader, json::ApiJson};
use crate::{
    model::{
        api::{
            BroadcastBody, EventData, ExportStarted, LoginBody, NotificationPage, PageQuery,
            SendToUserBody, SignedIn, TimingBody, UnreadCount,
        },
        AnnouncementSummary, AppError, AuditEntry, Channel, Envelope, Role, Scope,
        SentAnnouncement, StreamStats, UserView,
    },
    server::{
        auth::{clear_cookie, Caller, Session},
        domain::announcement::{Announcement, AnnouncementDraft},
        state::AppState,
        usecases::{self, auth::SignInFrom, idempotency::Once},
    },
};

// Answers: the user's own routes return `Json<T>`, the admin and service
// routes `Envelope<T>`, refusals `AppError` (an `ErrorBody`); see
// `model::api` for the rule.

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

pub async fn notifications(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<NotificationPage>, AppError> {
    let Query(query) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let (items, unread) =
        usecases::inbox::page(&state, &session, query.before, query.limit).await?;
    // The cursor for the next (older) page; absent once the list is exhausted.
    let next_before = items.last().map(|n| n.position);
    Ok(Json(NotificationPage {
        items,
        unread,
        next_before,
    }))
}

pub async fn mark_read(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    usecases::inbox::mark_read(&state, &session, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mark_all_read(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<UnreadCount>, AppError> {
    let unread = usecases::inbox::mark_all_read(&state, &session).await?;
    Ok(Json(UnreadCount { unread }))
}

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
    }
    .parse()
}

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

pub async fn start_export(
    State(state): State<AppState>,
    session: Session,
    KeyHeader(key): KeyHeader,
) -> Result<(StatusCode, Envelope<ExportStarted>), AppError> {
    // The request has no body: the route is all there is to match.
    let once = key.map(|key| Once::new(key, "export", &()));
    let task_id = usecases::export::start_once(&state, &session, once.as_ref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Envelope::ok(ExportStarted { task_id }),
    ))
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
    IdPath(id): IdPath,
) -> Result<Json<UnreadCount>, AppError> {
    let unread = usecases::inbox::archive(&state, &session, id).await?;
    Ok(Json(UnreadCount { unread }))
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<AnnouncementSummary>>, AppError> {
    Ok(Envelope::ok(
        usecases::admin::history(&state, &caller).await?,
    ))
}

pub async fn retract(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, AppError> {
    usecases::retract::retract(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<Vec<AuditEntry>>, AppError> {
    Ok(Envelope::ok(
        usecases::admin::audit_log(&state, &caller).await?,
    ))
}
