//! Fixed-window counters per key: failed sign-ins per username and per
//! client address (brute force), announcements per admin (a runaway script).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Entries kept before expired windows are swept out.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::default(),
        }
    }

    /// True while `key` has used up its allowance in the current window.
    pub fn is_exhausted(&self, key: &str) -> bool {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(key).is_some_and(|(start, count)| {
            now.duration_since(*start) < self.window && *count >= self.limit
        })
    }

    /// Counts one use of `key`.
    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Counts one use and says whether it was within the allowance.
    pub fn allow(&self, key: &str) -> bool {
        if self.is_exhausted(key) {
            return false;
        }
        self.record(key);
        true
    }

    pub fn forget(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The server's limiters, one per door that needs one.
pub struct Limits {
    pub login_failures: RateLimiter,
    pub publish: RateLimiter,
}

impl Limits {
    pub fn new(login_failures_per_minute: u32, publish_per_minute: u32) -> Limits {
        let minute = Duration::from_secs(60);
        Limits {
            login_failures: RateLimiter::new(login_failures_per_minute, minute),
            publish: RateLimiter::new(publish_per_minute, minute),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_key_then_resets() {
        let limiter = RateLimiter::new(2, Duration::from_millis(50));
        assert!(limiter.allow("a"));
        assert!(limiter.allow("a"));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"), "keys are independent");
        std::thread::sleep(Duration::from_millis(60)); // the window itself is time
        assert!(limiter.allow("a"));
        limiter.record("a");
        limiter.forget("a");
        assert!(!limiter.is_exhausted("a"));
    }
}
