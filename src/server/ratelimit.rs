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
        self.is_exhausted_at(key, Instant::now())
    }

    fn is_exhausted_at(&self, key: &str, now: Instant) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(key).is_some_and(|(start, count)| {
            now.duration_since(*start) < self.window && *count >= self.limit
        })
    }

    /// Counts one use of `key`.
    pub fn record(&self, key: &str) {
        self.record_at(key, Instant::now());
    }

    fn record_at(&self, key: &str, now: Instant) {
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
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        if self.is_exhausted_at(key, now) {
            return false;
        }
        self.record_at(key, now);
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
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert!(limiter.allow_at("a", start));
        assert!(limiter.allow_at("a", start));
        assert!(!limiter.allow_at("a", start + Duration::from_secs(59)));
        assert!(limiter.allow_at("b", start), "keys are independent");
        assert!(
            limiter.allow_at("a", start + Duration::from_secs(60)),
            "a new window"
        );
        limiter.record("a");
        limiter.forget("a");
        assert!(!limiter.is_exhausted("a"));
    }
}
