//! The accept loop: every TCP connection, the connection limits and
//! deadlines, and the hand-off of stream requests to the direct path
//! (`sse::direct`) or of everything else to the router on hyper; the
//! threads those streams are written from (`stream_workers`).

pub(crate) mod listener;
pub mod stream_workers;
