//! Authentication: passwords, tokens, and who is asking.

pub mod jwt;
pub mod password;
mod session;

pub use session::{
    authenticate, carries_bearer, clear_cookie, session_cookie, Admin, Session, SESSION_COOKIE,
};
