//! Delivery: how a committed change reaches open streams. The publisher
//! commits and orders, the follower replays the PostgreSQL log on every
//! instance, `events` applies domain events to the hub with the frames
//! `wire` builds (each from its model type), and the hub holds the streams
//! and their unread counters.

pub mod backplane;
pub mod events;
pub mod hub;
pub mod latency;
pub mod publisher;
pub mod wire;
