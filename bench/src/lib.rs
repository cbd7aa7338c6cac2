//! Shared pieces of the load generator, kept in a library so they can be
//! unit-tested: the HTTP/1.1 and SSE wire parsing the subscribers do by hand,
//! percentiles, and the `/proc` readings.

pub mod procfs;
pub mod stats;
pub mod wire;
