//! Guards against abuse: who the client is behind trusted proxies, sign-in
//! throttling, rate limits, caps on connections and per-user jobs, and the
//! cross-site check on cookie-authenticated state changes.

pub mod client_addr;
pub mod connections;
pub mod cors;
pub mod csrf;
pub mod login_throttle;
pub mod per_user;
pub mod ratelimit;
