//! Shared pieces of the load generator and the soak test, kept in a library
//! so they can be unit-tested: the HTTP/1.1 and SSE wire parsing the clients
//! do by hand, a keep-alive request connection, percentiles, the `/proc`
//! readings, and the flag parsers and exit status of the binaries.

pub mod cli;
pub mod http;
pub mod procfs;
pub mod soak;
pub mod stats;
pub mod wire;
