//! JSON handlers: parse, call a use case, shape the answer. No logic of their own.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::json::ApiJson;
use crate::{
    model::{AppError, SentAnnouncement, UserView},
    server::{
        auth::{clear_cookie, session_cookie, Admin, Session},
        state::AppState,
        store::notifications::Recipients,
        usecases::{self, announce::Draft},
    },
};

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, AppError> {
    let signed_in = usecases::auth::login(&state, &body.username, &body.password).await?;
    let cookie = session_cookie(
        &signed_in.token,
        signed_in.max_age.as_secs(),
        state.config.secure_cookies,
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
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

pub async fn notifications(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let page = usecases::inbox::first_page(&state, &session).await?;
    Ok(Json(json!({ "items": page.items, "unread": page.unread })).into_response())
}

pub async fn stats(State(state): State<AppState>, _admin: Admin) -> Response {
    Json(json!({ "success": true, "data": state.hub.stats() })).into_response()
}

/// `data` of an admin's event: what every inbox shows.
#[derive(Deserialize)]
pub struct EventData {
    title: String,
    #[serde(default)]
    body: String,
    severity: Option<String>,
    link: Option<String>,
}

#[derive(Deserialize)]
pub struct BroadcastBody {
    event: Option<String>,
    data: EventData,
}

#[derive(Deserialize)]
pub struct SendToUserBody {
    user_id: i64,
    event: Option<String>,
    data: EventData,
}

fn draft(event: Option<String>, data: EventData) -> Draft {
    Draft {
        event,
        title: data.title,
        body: data.body,
        severity: data.severity,
        link: data.link,
    }
}

fn sent(result: SentAnnouncement) -> Response {
    Json(json!({ "success": true, "data": result })).into_response()
}

pub async fn broadcast(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<BroadcastBody>,
) -> Result<Response, AppError> {
    let result = usecases::announce::announce(
        &state,
        &admin,
        draft(body.event, body.data),
        Recipients::All,
    )
    .await?;
    Ok(sent(result))
}

pub async fn send_to_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<SendToUserBody>,
) -> Result<Response, AppError> {
    let recipients = Recipients::User(body.user_id);
    let result =
        usecases::announce::announce(&state, &admin, draft(body.event, body.data), recipients)
            .await?;
    Ok(sent(result))
}
