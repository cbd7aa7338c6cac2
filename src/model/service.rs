//! What other services see of Herald: the scopes of a service API key, the
//! key as the console lists it, and the accounts a host app provisions.
//! No key and no hash lives here, except [`CreatedKey::key`], shown once.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Role;

/// What a service key may do. An admin session may do all of it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Broadcast, send to a user, retract.
    Publish,
    /// Stream stats, announcements (history), the audit log.
    Read,
    /// Provisioning accounts.
    Users,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Publish, Scope::Read, Scope::Users];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::Read => "read",
            Scope::Users => "users",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key as the console and `herald key list` show it: never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters (`hrld_<public id>`), to tell keys apart;
    /// they grant nothing.
    pub prefix: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key just created: the only time the key itself is seen.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: String,
    pub view: KeyView,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &"[redacted]")
            .field("view", &self.view)
            .finish()
    }
}

/// `POST /api/users`. Unknown fields are refused: a misspelt `password`
/// must not create an account without one.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub role: String,
    /// Absent: the account cannot sign in with a password.
    pub password: Option<String>,
    pub email: Option<String>,
}

impl fmt::Debug for NewUserBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUserBody")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("email", &self.email)
            .finish()
    }
}

/// `PATCH /api/users/{username}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub role: String,
}

/// An account as the provisioning routes answer it (no password hash).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub email: Option<String>,
}

/// `POST /api/users/{username}/tokens`: a short-lived user token for a host
/// app's page, shown once.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserToken {
    /// Use as `Authorization: Bearer` on the user's routes, from the allowed origins.
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// `POST /api/stream-tickets`: a single-use ticket for `/sse/stream?ticket=`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTicket {
    pub ticket: String,
    /// RFC 3339; about 30 s after it was issued.
    pub expires_at: String,
}
