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
//! The workers also run at a lower CPU priority ([`STREAM_NICE`]): when the
//! cores are saturated by a fan-out, a control-path thread that wakes (a
//! database answer, a new request) gets a core at once instead of waiting
//! for its share beside the streams. The streams lose nothing they need:
//! the control path is a small fraction of the CPU (docs/publish-path.md).
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
            .on_thread_start(yield_to_the_control_path)
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

/// How much lower the stream workers' priority is than the server's (Linux
/// `nice`: 0 is the default, 19 the lowest). 10 weighs a worker a tenth of a control thread
/// in the kernel's fair share, and lets a waking control thread preempt it.
pub const STREAM_NICE: i32 = 10;

/// Lowers the calling thread's priority (Linux: `nice` is per thread). A
/// failure only costs the control path its head start.
fn yield_to_the_control_path() {
    // SAFETY: plain system calls on the calling thread, no memory passed.
    // Relative to the thread's own (a server started under `nice` keeps its place).
    let done = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let own = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (own + STREAM_NICE).min(19))
    };
    if done != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "stream worker priority unchanged");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn own_nice() -> i32 {
        // SAFETY: plain system calls on the calling thread.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        }
    }

    #[tokio::test]
    async fn streams_run_on_their_own_lower_priority_threads() {
        let workers = StreamWorkers::new(NonZeroUsize::MIN);
        let (tx, rx) = tokio::sync::oneshot::channel();
        workers
            .spawn(async move {
                let thread = std::thread::current().name().map(str::to_string);
                let _ = tx.send((thread, own_nice()));
            })
            .unwrap();
        let (thread, nice) = rx.await.unwrap();
        assert_eq!(thread.as_deref(), Some("herald-stream"));
        assert_eq!(nice, own_nice() + STREAM_NICE);
        // Dropped inside a runtime without a panic.
        drop(workers);
    }
}
