//! Stream tickets: how a page on another origin opens its user's stream.
//!
//! `EventSource` cannot send headers, so a bearer would have to ride in the
//! URL, where proxies and servers log it and it stays valid for as long as
//! the token does. Instead the page exchanges its bearer (a user token, or a
//! session) for a ticket (`POST /api/stream-tickets`) and opens
//! `/sse/stream?ticket=…` with it: the ticket is random (256 bits), valid for
//! [`TICKET_TTL`], taken by the first request that shows it, and names the
//! session it was issued for, so the stream it opens is that session's —
//! closed with it (logout, key revocation, the user's deletion). Only its
//! SHA-256 is stored; the request span never logs it (`observe::request_span`).
//!
//! Cost: minting is one insert, redeeming one delete and one session check;
//! a user holds at most [`OUTSTANDING_PER_USER`] unexpired tickets (429
//! beyond), and the sweeper deletes expired ones, so the table never holds
//! more than that per user who asked in the last half-minute.

use std::time::Duration;

use http::HeaderMap;

use super::{
    service_key::digest,
    session::{active_session, authenticate, check_origin, Session, SessionCheck},
};
use crate::{
    model::AppError,
    server::store::{now_ms, rfc3339, stream_tickets},
};

/// How long a ticket may wait to be used: a reconnecting page asks for one
/// and uses it within the same second; half a minute covers a slow network.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Unexpired tickets one user may hold: one per tab's reconnect is plenty
/// (one stream per browser); more is a loop or an attack.
pub const OUTSTANDING_PER_USER: i64 = 16;
const PREFIX: &str = "htk_";

/// A fresh ticket: shown once, to the session's holder.
pub struct Ticket {
    pub ticket: String,
    pub expires_at: String,
}

/// Issues a ticket for `session`'s stream.
pub async fn mint(state: &impl SessionCheck, session: &Session) -> Result<Ticket, AppError> {
    let random = crate::server::random::hex_id(32).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a stream ticket");
        AppError::Internal
    })?;
    let ticket = format!("{PREFIX}{random}");
    let expires = now_ms() + TICKET_TTL.as_millis() as i64;
    let stored = stream_tickets::insert(
        state.pool(),
        &digest(&ticket),
        &session.session_id,
        session.user.id,
        expires,
        OUTSTANDING_PER_USER,
    )
    .await?;
    if !stored {
        return Err(AppError::RateLimited);
    }
    Ok(Ticket {
        ticket,
        expires_at: rfc3339(expires),
    })
}

/// Who a stream request is for: the ticket's session when it names one
/// (and then nothing else is consulted: a bad ticket is a 401, never a
/// fallback to a cookie), else the request's bearer or cookie.
pub async fn authenticate_stream(
    state: &impl SessionCheck,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<Session, AppError> {
    let Some(ticket) = ticket else {
        return authenticate(state, headers).await;
    };
    let session = redeem(state, ticket).await?;
    if session.host_key.is_some() {
        check_origin(state.allowed_origins(), headers)?;
    }
    Ok(session)
}

/// The session a ticket opens a stream for, taking the ticket. A used,
/// expired or forged ticket, or one whose session has ended since: 401.
pub async fn redeem(state: &impl SessionCheck, ticket: &str) -> Result<Session, AppError> {
    let well_formed = ticket
        .strip_prefix(PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        // Not looked up: nothing we issued looks like this.
        return Err(AppError::Unauthorized);
    }
    let redeemed = stream_tickets::redeem(state.pool(), &digest(ticket))
        .await?
        .ok_or(AppError::Unauthorized)?;
    active_session(state, &redeemed.session_id, redeemed.user_id).await
}
