//! Fixed-window counters per key: announcements per admin (a runaway
//! script), user tokens per service key. Sign-ins have their own throttle (`login_throttle`), which
//! reserves attempts before the password check.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::server::guard::login_throttle::{LoginLimits, LoginThrottle};

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

    /// Counts one use and says whether it was within the allowance.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    /// Checks and counts under one lock, so concurrent callers cannot all
    /// pass the check before any of them is counted.
    fn allow_at(&self, key: &str, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

/// Snoozes and bulk archives per user and minute: far above a person's
/// clicks, and a bound on what a script can make the log and the
/// publishing turns carry (each snooze is a turn now and an entry when it
/// returns).
pub const INBOX_BULK_PER_MINUTE: u32 = 120;

/// The server's limiters, one per door that needs one.
pub struct Limits {
    pub login: LoginThrottle,
    pub publish: RateLimiter,
    /// User tokens one service key may ask for per minute: each is a
    /// session row, so a looping or stolen key must not write without end.
    pub user_tokens: RateLimiter,
    /// Snooze, archive-read, archive {ids}: per user id.
    pub inbox_bulk: RateLimiter,
}

impl Limits {
    pub fn new(login: LoginLimits, publish_per_minute: u32, user_tokens_per_minute: u32) -> Limits {
        Limits {
            login: LoginThrottle::new(login),
            publish: RateLimiter::new(publish_per_minute, Duration::from_secs(60)),
            user_tokens: RateLimiter::new(user_tokens_per_minute, Duration::from_secs(60)),
            inbox_bulk: RateLimiter::new(INBOX_BULK_PER_MINUTE, Duration::from_secs(60)),
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
    }

    #[test]
    fn concurrent_callers_get_exactly_the_limit() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5, Duration::from_secs(60)));
        let allowed: usize = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || (0..50).filter(|_| limiter.allow("k")).count())
            })
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(allowed, 5);
    }
}
