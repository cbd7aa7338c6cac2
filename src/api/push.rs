//! The preferences page's Web Push switch (`ui::pages::preferences`): the
//! key to subscribe with, and saving or removing this browser's
//! subscription. The JSON routes (`/api/push/…`) call the same use case.

use leptos::prelude::*;

use crate::model::AppError;

/// The server's VAPID public key (base64url); an error when push is off.
#[server]
pub async fn push_public_key() -> Result<String, AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    session(&state).await?;
    Ok(crate::server::usecases::push::public_key(&state)?.public_key)
}

/// `subscription`: `JSON.stringify(pushSubscription)` (its `toJSON()`).
#[server]
pub async fn save_push_subscription(subscription: String) -> Result<(), AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    let body = serde_json::from_str(&subscription)
        .map_err(|_| AppError::invalid("subscription", "must be a PushSubscription's JSON"))?;
    crate::server::usecases::push::subscribe(&state, &session, body).await
}

#[server]
pub async fn remove_push_subscription(endpoint: String) -> Result<(), AppError> {
    use super::ssr::{session, state};
    let state = state()?;
    let session = session(&state).await?;
    let body = crate::model::push::PushEndpointBody {
        endpoint: Some(endpoint),
    };
    crate::server::usecases::push::unsubscribe(&state, &session, body).await
}
