//! The accept loop: every TCP connection, the connection limits and
//! deadlines, and the hand-off of stream requests to the direct path
//! (`sse::direct`) or of everything else to the router on hyper.

pub(crate) mod listener;
