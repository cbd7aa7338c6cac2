//! Authentication: passwords, tokens, and who is asking.

mod caller;
pub mod device;
pub mod jwt;
pub mod origins;
pub mod password;
pub mod service_key;
mod session;
pub mod stream_ticket;

pub use caller::{identify, Caller};
pub use origins::AllowedOrigins;
pub use session::{
    authenticate, carries_bearer, clear_cookie, cookie_value, session_cookie, Session,
    SessionCheck, SESSION_COOKIE,
};
