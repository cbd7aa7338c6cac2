//! Provisioning routes (`/api/users`): an admin session or a `users` key.
//! Parse, call `usecases::provisioning`, shape the answer.

use axum::{extract::State, http::StatusCode};

use crate::{
    model::{
        service::{NewUserBody, RoleBody},
        AccountView, AppError, Envelope, Scope,
    },
    server::{
        auth::Caller,
        http::{id_path::NamePath, idempotency_key::KeyHeader, json::ApiJson},
        state::AppState,
        usecases::provisioning::{self, NewUser},
    },
};

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Envelope<AccountView>), AppError> {
    caller.require(Scope::Users)?;
    let new = NewUser {
        role: provisioning::parse_role(&body.role)?,
        username: body.username,
        password: body.password,
        email: body.email,
    };
    let account = provisioning::create(&state, &caller, new, key).await?;
    Ok((StatusCode::CREATED, Envelope::ok(account)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
) -> Result<Envelope<AccountView>, AppError> {
    Ok(Envelope::ok(
        provisioning::get(&state, &caller, &username).await?,
    ))
}

pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Envelope<AccountView>, AppError> {
    caller.require(Scope::Users)?;
    let role = provisioning::parse_role(&body.role)?;
    Ok(Envelope::ok(
        provisioning::set_role(&state, &caller, &username, role, key).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
    KeyHeader(key): KeyHeader,
) -> Result<StatusCode, AppError> {
    provisioning::delete(&state, &caller, &username, key).await?;
    Ok(StatusCode::NO_CONTENT)
}
