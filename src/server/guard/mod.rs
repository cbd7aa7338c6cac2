//! Guards against abuse: sign-in throttling, rate limits and the
//! cross-site checks on cookie-authenticated state changes.

pub mod csrf;
pub mod login_throttle;
pub mod ratelimit;
