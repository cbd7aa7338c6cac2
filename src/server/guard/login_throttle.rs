//! Sign-in throttling: an attempt reserves its slots *before* the password is
//! checked, so concurrent attempts cannot all slip past a check that only
//! counts finished failures, and in-flight attempts count against the limit.
//!
//! Keys (fixed one-minute windows, all reserved together or none):
//! - `Pair(account, address)`: failures of one account from one address —
//!   the ordinary brute-force limit (`HERALD_LOGIN_FAILURES_PER_MINUTE`).
//!   An attacker exhausting it blocks only themselves: the owner elsewhere,
//!   and colleagues behind the same NAT signing in to their own accounts,
//!   use other pairs.
//! - `Address(address)`: failures across all accounts from one address
//!   (password spraying), larger, since an office shares one address.
//! - `Account(account)`: failures of one account from every browser the
//!   account has not signed in from (distributed guessing).
//! - `Device(account, id)`: replaces all three for a browser holding a valid
//!   device cookie for the account (OWASP "device cookie"): the owner's own
//!   browser is never locked out by anyone else's failures.
//!
//! IPv6 addresses are counted per /64, the block one subscriber usually
//! holds. Memory: at most `MAX_KEYS` live keys (~100 bytes each); expired
//! windows are swept once `SWEEP_AT` keys exist, and when a flood of
//! distinct keys still fills the table, attempts needing a new key are
//! refused (429) rather than letting the table grow without bound.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::server::guard::client_addr::canonical;

const WINDOW: Duration = Duration::from_secs(60);
const SWEEP_AT: usize = 10_000;
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Pair(String, IpAddr),
    Address(IpAddr),
    Account(String),
    Device(String, String),
}

/// Allowances per window for each kind of key.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub per_pair: u32,
    pub per_address: u32,
    pub per_account: u32,
}

pub struct LoginThrottle {
    limits: LoginLimits,
    windows: Mutex<HashMap<ThrottleKey, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

/// Who is trying: the account, and either the browser's proven device id
/// or the client's address.
pub enum Attempt<'a> {
    Device { account: &'a str, device: &'a str },
    Untrusted { account: &'a str, address: IpAddr },
}

/// Slots held by one attempt. Dropped without a verdict (the client went
/// away mid-check, say) they stay counted: a failure is the safe guess.
pub struct Reservation<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<(ThrottleKey, Instant)>,
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> LoginThrottle {
        LoginThrottle {
            limits,
            windows: Mutex::default(),
        }
    }

    /// Takes one slot under every key of `attempt`, or none (and `None`) when
    /// any of them is used up.
    pub fn reserve(&self, attempt: &Attempt<'_>) -> Option<Reservation<'_>> {
        self.reserve_at(attempt, Instant::now())
    }

    fn keys(&self, attempt: &Attempt<'_>) -> Vec<(ThrottleKey, u32)> {
        let l = self.limits;
        match *attempt {
            Attempt::Device { account, device } => vec![(
                ThrottleKey::Device(account.to_string(), device.to_string()),
                l.per_pair,
            )],
            Attempt::Untrusted { account, address } => {
                let address = bucket(address);
                vec![
                    (ThrottleKey::Pair(account.to_string(), address), l.per_pair),
                    (ThrottleKey::Address(address), l.per_address),
                    (ThrottleKey::Account(account.to_string()), l.per_account),
                ]
            }
        }
    }

    fn reserve_at(&self, attempt: &Attempt<'_>, now: Instant) -> Option<Reservation<'_>> {
        let keys = self.keys(attempt);
        let mut windows = self.lock();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.start) < WINDOW);
        }
        let new_keys = keys
            .iter()
            .filter(|(k, _)| !windows.contains_key(k))
            .count();
        if windows.len() + new_keys > MAX_KEYS {
            tracing::warn!("sign-in throttle table full; refusing new keys");
            return None;
        }
        let current = |w: Option<&Window>| match w {
            Some(w) if now.duration_since(w.start) < WINDOW => w.count,
            _ => 0,
        };
        if keys
            .iter()
            .any(|(key, limit)| current(windows.get(key)) >= *limit)
        {
            return None;
        }
        let mut held = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let w = windows.entry(key.clone()).or_insert(Window {
                start: now,
                count: 0,
            });
            if now.duration_since(w.start) >= WINDOW {
                *w = Window {
                    start: now,
                    count: 0,
                };
            }
            w.count += 1;
            held.push((key, w.start));
        }
        Some(Reservation {
            throttle: self,
            keys: held,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThrottleKey, Window>> {
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives back a slot taken in the window that started at `start`.
    fn release(windows: &mut HashMap<ThrottleKey, Window>, key: &ThrottleKey, start: Instant) {
        if let Some(w) = windows.get_mut(key) {
            if w.start == start {
                w.count = w.count.saturating_sub(1);
            }
        }
    }
}

impl Reservation<'_> {
    /// The password was wrong: the slots stay taken.
    pub fn failed(self) {}

    /// The right password: this browser's own failures (pair or device) are
    /// forgotten; the shared keys get this attempt's slot back but keep
    /// everyone else's failures.
    pub fn succeeded(mut self) {
        let mut windows = self.throttle.lock();
        for (i, (key, start)) in self.keys.drain(..).enumerate() {
            if i == 0 {
                windows.remove(&key);
            } else {
                LoginThrottle::release(&mut windows, &key, start);
            }
        }
    }

    /// No verdict was reached for reasons of our own (busy, internal error):
    /// the attempt does not count.
    pub fn refund(mut self) {
        let mut windows = self.throttle.lock();
        for (key, start) in self.keys.drain(..) {
            LoginThrottle::release(&mut windows, &key, start);
        }
    }
}

/// The unit one client is counted in: an IPv4 address, or an IPv6 /64.
fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_pair: u32, per_address: u32, per_account: u32) -> LoginThrottle {
        LoginThrottle::new(LoginLimits {
            per_pair,
            per_address,
            per_account,
        })
    }

    fn from<'a>(account: &'a str, address: &str) -> Attempt<'a> {
        Attempt::Untrusted {
            account,
            address: address.parse().unwrap(),
        }
    }

    #[test]
    fn in_flight_attempts_count_against_the_limit() {
        let t = throttle(3, 100, 100);
        let held: Vec<_> = (0..3)
            .map(|_| t.reserve(&from("admin", "203.0.113.9")).expect("slot"))
            .collect();
        assert!(t.reserve(&from("admin", "203.0.113.9")).is_none());
        held.into_iter().for_each(Reservation::failed);
        assert!(t.reserve(&from("admin", "203.0.113.9")).is_none());
    }

    #[test]
    fn one_address_does_not_block_the_owner_elsewhere_or_colleagues() {
        let t = throttle(2, 100, 100);
        for _ in 0..2 {
            t.reserve(&from("admin", "203.0.113.9")).unwrap().failed();
        }
        assert!(t.reserve(&from("admin", "203.0.113.9")).is_none());
        assert!(t.reserve(&from("admin", "198.51.100.7")).is_some(), "owner");
        assert!(
            t.reserve(&from("bob", "203.0.113.9")).is_some(),
            "colleague"
        );
    }

    #[test]
    fn spraying_from_one_address_hits_the_address_limit() {
        let t = throttle(10, 3, 100);
        for name in ["a", "b", "c"] {
            t.reserve(&from(name, "203.0.113.9")).unwrap().failed();
        }
        assert!(t.reserve(&from("d", "203.0.113.9")).is_none());
        assert!(t.reserve(&from("d", "198.51.100.7")).is_some());
    }

    #[test]
    fn distributed_guessing_spares_a_known_device() {
        let t = throttle(10, 100, 3);
        for addr in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            t.reserve(&from("admin", addr)).unwrap().failed();
        }
        assert!(t.reserve(&from("admin", "192.0.2.4")).is_none());
        let device = Attempt::Device {
            account: "admin",
            device: "d1",
        };
        assert!(t.reserve(&device).is_some());
    }

    #[test]
    fn success_forgets_own_failures_and_refund_gives_slots_back() {
        let t = throttle(2, 2, 100);
        t.reserve(&from("admin", "203.0.113.9")).unwrap().failed();
        t.reserve(&from("admin", "203.0.113.9")).unwrap().refund();
        t.reserve(&from("admin", "203.0.113.9"))
            .unwrap()
            .succeeded();
        // The pair is clear and the address kept only the one real failure.
        t.reserve(&from("admin", "203.0.113.9")).unwrap().failed();
        assert!(t.reserve(&from("bob", "203.0.113.9")).is_none());
    }

    #[test]
    fn windows_end_and_ipv6_counts_per_64() {
        let t = throttle(1, 100, 100);
        let start = Instant::now();
        let a = from("admin", "2001:db8:1:2::1");
        t.reserve_at(&a, start).unwrap().failed();
        let b = from("admin", "2001:db8:1:2:ffff::9");
        assert!(t.reserve_at(&b, start).is_none(), "same /64");
        let c = from("admin", "2001:db8:1:3::1");
        assert!(t.reserve_at(&c, start).is_some(), "another /64");
        assert!(t.reserve_at(&a, start + WINDOW).is_some(), "a new window");
    }
}
