//! The data path's own threads: every stream served on the direct path
//! (`sse::direct`) writes its frames from a runtime of its own, not from
//! the one that accepts connections and answers requests.
//!
//! Why (docs/publish-path.md): a broadcast to 10,000 open streams wakes
//! 10,000 tasks at once. On one shared scheduler, every step of the publish
//! request that follows — each database round trip's wake-up, the commit's
//! continuation, writing the answer — waits in the run queue behind all of
//! them, so the request's latency grew with the number of open streams
//! (4.2 s at p50 with 10,000 of them). On threads of their own the two are
//! scheduled side by side by the kernel: the control path (accept,
//! authenticate, validate, commit, apply to the hub) never queues behind a
//! socket write, however many streams a broadcast woke.
//!
//! The hub stays where it was: a commit applies its events to the hub on
//! the control path (offering a frame to each queue is 0.35% of the CPU);
//! the wake-up of each stream's task crosses to these threads.
//!
//! The runtime starts at the first stream, so commands that never serve
//! (`herald user …`) start no thread; it stops when the last [`AppState`]
//! clone holding it is dropped, without waiting for the streams (the server
//! ends them first, see `server::run`).
//!
//! [`AppState`]: crate::server::state::AppState

use std::{future::Future, num::NonZeroUsize, sync::OnceLock};

use tokio::runtime::{Builder, Handle, Runtime};
use tracing::instrument::WithSubscriber;

pub struct StreamWorkers {
    threads: NonZeroUsize,
    runtime: OnceLock<Runtime>,
}

impl StreamWorkers {
    pub fn new(threads: NonZeroUsize) -> StreamWorkers {
        StreamWorkers {
            threads,
            runtime: OnceLock::new(),
        }
    }

    /// The runtime's handle, starting it on first use.
    pub fn handle(&self) -> std::io::Result<Handle> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime.handle().clone());
        }
        let runtime = Builder::new_multi_thread()
            .worker_threads(self.threads.get())
            .thread_name("herald-stream")
            .enable_all()
            .build()?;
        // A concurrent first call may have won: its runtime is used, ours dropped.
        let runtime = match self.runtime.set(runtime) {
            Ok(()) => self.runtime.get().expect("just set"),
            Err(ours) => {
                ours.shutdown_background();
                self.runtime.get().expect("set by the winner")
            }
        };
        Ok(runtime.handle().clone())
    }

    /// Runs `stream` on the stream workers, logging to the subscriber of
    /// the code that spawns it (a test's scoped one, as well as the global).
    pub fn spawn(&self, stream: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        self.handle()?.spawn(stream.with_current_subscriber());
        Ok(())
    }
}

impl Drop for StreamWorkers {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime
        // (where the last AppState usually goes); this does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
