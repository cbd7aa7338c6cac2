//! Signing in and out.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use http::{HeaderMap, HeaderValue};

use crate::server::usecases::accounts::{PASSWORD_MAX, USERNAME_MAX};
use crate::{
    model::{AppError, UserView},
    server::{
        auth::{device::Device, jwt::Claims, session_cookie, Session},
        delivery::events::{self, DomainEvent},
        domain::at_most,
        guard::client_addr::client_ip,
        guard::login_throttle::Attempt,
        state::AppState,
        store::{now_ms, sessions, users},
    },
};

pub struct LoggedIn {
    pub token: String,
    pub user: UserView,
    pub max_age: Duration,
    /// Marks this browser as known to the account (see `auth::device`).
    device_cookie: Option<HeaderValue>,
}

impl LoggedIn {
    /// The `Set-Cookie` values a successful sign-in answers with: the
    /// session, and the device cookie.
    pub fn cookies(&self, secure: bool) -> Vec<HeaderValue> {
        let session = session_cookie(&self.token, self.max_age.as_secs(), secure);
        std::iter::once(session)
            .chain(self.device_cookie.clone())
            .collect()
    }
}

/// Where a sign-in comes from, as the throttle sees it. Both doors (the JSON
/// route and the server function) build it here from the TCP peer and the
/// request headers, so they count attempts the same way.
pub struct SignInFrom {
    pub address: IpAddr,
    device: Option<Device>,
}

impl SignInFrom {
    pub fn request(state: &AppState, peer: Option<IpAddr>, headers: &HeaderMap) -> SignInFrom {
        SignInFrom {
            // Without a peer (never on a real socket) every such caller shares
            // one bucket: safe, if harsh.
            address: peer
                .map(|peer| client_ip(peer, headers, &state.config.trusted_proxies))
                .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            device: state.devices.from_headers(headers),
        }
    }
}

/// Same answer, and about the same time, for an unknown user and a wrong
/// password. Before anything is looked up or hashed, the attempt reserves
/// its slots in the sign-in throttle (`login_throttle` explains the keys):
/// at most the limit of attempts per key are ever checked, however many
/// arrive at once, and the rest get 429 straight away.
#[tracing::instrument(skip(state, password, from), fields(client = %from.address))]
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    from: &SignInFrom,
) -> Result<LoggedIn, AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::invalid("username", "is required"));
    }
    // No account has a longer name; refusing here keeps throttle keys small.
    at_most("username", username, USERNAME_MAX)?;
    if password.is_empty() {
        return Err(AppError::invalid("password", "is required"));
    }
    // argon2 reads all of it; no account has a longer one.
    at_most("password", password, PASSWORD_MAX)?;
    let attempt = match &from.device {
        Some(device) if device.username == username => Attempt::Device {
            account: username,
            device: &device.id,
        },
        _ => Attempt::Untrusted {
            account: username,
            address: from.address,
        },
    };
    let Some(slot) = state.limits.login.reserve(&attempt) else {
        tracing::warn!("sign-in rate-limited");
        return Err(AppError::RateLimited);
    };
    let user = match check_password(state, username, password).await {
        Ok(Some(user)) => {
            slot.succeeded();
            user
        }
        Ok(None) => {
            slot.failed();
            tracing::info!("sign-in refused");
            return Err(AppError::BadCredentials);
        }
        Err(err) => {
            // Busy or broken on our side: no verdict, so no failure counted.
            slot.refund();
            return Err(err);
        }
    };

    let ttl = state.config.session_ttl;
    let token = issue_session(state, &user, ttl, None).await?.token;
    tracing::info!(user_id = user.id, "signed in");
    let device_cookie = state.devices.cookie(
        from.device.as_ref(),
        &user.username,
        state.config.secure_cookies,
    );
    Ok(LoggedIn {
        token,
        user: user.view(),
        max_age: ttl,
        device_cookie,
    })
}

/// A session's token, signed.
pub struct Issued {
    pub token: String,
    pub expires_at_ms: i64,
}

/// Opens a session for `user` lasting `ttl` (a sign-in's, or a user
/// token's when `key_id` names the service key that asked): a row, so it
/// can be revoked, and its signed token.
pub async fn issue_session(
    state: &AppState,
    user: &users::UserRecord,
    ttl: std::time::Duration,
    key_id: Option<i64>,
) -> Result<Issued, AppError> {
    let now = now_ms();
    let expires = now + ttl.as_millis() as i64;
    let sid = new_session_id()?;
    sessions::insert(&state.pool, &sid, user.id, expires, key_id).await?;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role(),
        sid,
        iat: now / 1000,
        exp: expires / 1000,
    };
    let token = state.keys.issue(&claims).map_err(|e| {
        tracing::error!(error = %e, "signing a session token failed");
        AppError::Internal
    })?;
    Ok(Issued {
        token,
        expires_at_ms: expires,
    })
}

/// The account, when `password` is its password. Unknown accounts are
/// checked against a decoy hash so they take as long.
async fn check_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<users::UserRecord>, AppError> {
    let user = users::find_by_name(&state.pool, username).await?;
    // An account without a password is checked against the decoy, like an
    // unknown one: it never matches, and takes as long.
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|hash| hash != users::NO_PASSWORD);
    let matches = state.hashers.verify(password, phc).await?;
    Ok(user.filter(|_| matches))
}

/// Revokes the session and closes the streams it opened.
pub async fn logout(state: &AppState, session: &Session) -> Result<(), AppError> {
    sessions::revoke(&state.pool, &session.session_id).await?;
    events::publish(
        &state.hub,
        [DomainEvent::SessionRevoked {
            session_id: session.session_id.clone(),
        }],
    );
    tracing::info!(user_id = session.user.id, "signed out");
    Ok(())
}

fn new_session_id() -> Result<String, AppError> {
    crate::server::random::hex_id(16).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session id");
        AppError::Internal
    })
}
