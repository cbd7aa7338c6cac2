//! Authentication: passwords, tokens, and who is asking.

pub mod device;
pub mod jwt;
pub mod password;
mod session;

pub use session::{
    authenticate, carries_bearer, clear_cookie, cookie_value, session_cookie, Admin, Session,
    SessionCheck, SESSION_COOKIE,
};
