//! Use cases: what Herald does, independent of how it was asked (server
//! function, JSON API, CLI). Each checks its own authorization, writes to
//! the store first, then publishes domain events.

pub mod accounts;
pub mod admin;
pub mod announce;
pub mod auth;
pub mod export;
pub mod idempotency;
pub mod inbox;
