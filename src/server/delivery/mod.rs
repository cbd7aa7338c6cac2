//! Delivery: how a committed change reaches open streams. The publisher
//! commits and orders, the follower replays the PostgreSQL log on every
//! instance, `events` turns domain events into frames, and the hub holds
//! the streams and their unread counters.

pub mod backplane;
pub mod events;
pub mod hub;
pub mod latency;
pub mod publisher;
