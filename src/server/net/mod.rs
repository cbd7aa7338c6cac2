//! The network edge below HTTP: the accept loop and its limits, the
//! client's address behind trusted proxies, and the span every request
//! is logged under.

pub mod client_addr;
pub mod connections;
pub(crate) mod listener;
pub(crate) mod request_span;
