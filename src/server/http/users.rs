//! Provisioning routes (`/api/users`): an admin session or a `users` key.
//! Parse, call `usecases::provisioning`, shape the answer.

use axum::{extract::State, http::StatusCode};

use crate::{
    model::{
        service::{NewUserBody, RoleBody},
        AccountView, AppError, FlatEnvelope, Scope, UserToken,
    },
    server::{
        auth::Caller,
        http::{
            id_path::NamePath,
            idempotency_key::KeyHeader,
            json::ApiJson,
            openapi::{
                errors::{
                    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, TooManyRequests,
                    Unauthorized, Unavailable, Unprocessable, UnsupportedMediaType,
                },
                params::IdempotencyKeyHeader,
            },
        },
        state::AppState,
        usecases::{
            provisioning::{self, NewUser},
            user_tokens,
        },
    },
};

/// Create an account.
///
/// Without a password the account cannot sign in with one. Unknown fields are refused (400).
#[utoipa::path(
    post,
    path = "/api/users",
    tag = "users",
    operation_id = "create_user",
    params(IdempotencyKeyHeader),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Created.", body = FlatEnvelope<AccountView>),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["users"]))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, FlatEnvelope<AccountView>), AppError> {
    caller.require(Scope::Users)?;
    let new = NewUser {
        role: provisioning::parse_role(&body.role)?,
        username: body.username,
        password: body.password,
        email: body.email,
    };
    let account = provisioning::create(&state, &caller, new, key).await?;
    Ok((StatusCode::CREATED, FlatEnvelope::ok(account)))
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/users/{username}",
    tag = "users",
    operation_id = "get_user",
    params(("username" = String, Path, description = "The account's username.")),
    responses(
        (status = 200, description = "The account.", body = FlatEnvelope<AccountView>),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["users"]))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
) -> Result<FlatEnvelope<AccountView>, AppError> {
    Ok(FlatEnvelope::ok(
        provisioning::get(&state, &caller, &username).await?,
    ))
}

/// Change an account's role; a demoted admin's streams and sessions end.
#[utoipa::path(
    patch,
    path = "/api/users/{username}",
    tag = "users",
    operation_id = "set_user_role",
    params(("username" = String, Path, description = "The account's username."), IdempotencyKeyHeader),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The account, changed.", body = FlatEnvelope<AccountView>),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["users"]))
)]
pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
    KeyHeader(key): KeyHeader,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<FlatEnvelope<AccountView>, AppError> {
    caller.require(Scope::Users)?;
    let role = provisioning::parse_role(&body.role)?;
    Ok(FlatEnvelope::ok(
        provisioning::set_role(&state, &caller, &username, role, key).await?,
    ))
}

/// Delete an account; its streams and sessions end.
#[utoipa::path(
    delete,
    path = "/api/users/{username}",
    tag = "users",
    operation_id = "delete_user",
    params(("username" = String, Path, description = "The account's username."), IdempotencyKeyHeader),
    responses(
        (status = 204, description = "Deleted."),
        BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, Unavailable,
    ),
    security(("session_cookie" = ["admin"]), ("session_bearer" = ["admin"]), ("api_key" = ["users"]))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
    KeyHeader(key): KeyHeader,
) -> Result<StatusCode, AppError> {
    provisioning::delete(&state, &caller, &username, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A short-lived user token for a host app's page.
///
/// For a host app's backend holding a `users` key: it hands the token to
/// the user's page, where Herald's bell uses it as `Authorization: Bearer`
/// on the user's own routes (inbox, read, archive, read-all, stream
/// tickets), from the origins in `HERALD_ALLOWED_ORIGINS`. Never on admin or
/// key routes. It lives `HERALD_USER_TOKEN_SECS` (default 600 s) and ends
/// when the key is revoked or the user deleted. No body.
#[utoipa::path(
    post,
    path = "/api/users/{username}/tokens",
    tag = "users",
    operation_id = "create_user_token",
    params(("username" = String, Path, description = "The account the token is for.")),
    responses(
        (status = 201, description = "The token, shown once.", body = FlatEnvelope<UserToken>),
        BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests, Unavailable,
    ),
    security(("api_key" = ["users"]))
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(username): NamePath,
) -> Result<(StatusCode, FlatEnvelope<UserToken>), AppError> {
    let token = user_tokens::issue(&state, &caller, &username).await?;
    Ok((StatusCode::CREATED, FlatEnvelope::ok(token)))
}
