//! The soak test's bookkeeping, kept apart from its network code so it can be
//! unit-tested: which seqs a stream slot received, what each request was and
//! which answers it may rightly get, and a small random source.

use std::{collections::BTreeMap, sync::Mutex};

/// One bit per seq.
#[derive(Default, Clone)]
pub struct SeqSet(Vec<u64>);

impl SeqSet {
    /// Adds `seq`; false when it was already there.
    pub fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let had = self.0[word] & bit != 0;
        self.0[word] |= bit;
        !had
    }
    pub fn contains(&self, seq: u64) -> bool {
        let word = (seq / 64) as usize;
        word < self.0.len() && self.0[word] & (1u64 << (seq % 64)) != 0
    }
    /// How many positions are in this set or `other`.
    pub fn union_len(&self, other: &SeqSet) -> u64 {
        let (long, short) = if self.0.len() >= other.0.len() {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        long.iter()
            .enumerate()
            .map(|(i, w)| (w | short.get(i).copied().unwrap_or(0)).count_ones() as u64)
            .sum()
    }
    /// Highest n such that 1..=n are all present.
    pub fn contiguous(&self) -> u64 {
        let mut n = 0;
        while self.contains(n + 1) {
            n += 1;
        }
        n
    }
}

/// How one stream slot fared against the positions its user's inbox holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SlotCheck {
    /// Received on a stream.
    pub streamed: u64,
    /// Not received on a stream, but read from the inbox after a `resync`.
    pub recovered: u64,
    /// Neither: lost.
    pub missing: Vec<u64>,
}

/// Checks a slot's record against `expected`: the log positions of the
/// user's notifications (global positions, so not `1..=n`: other users'
/// entries lie between them).
pub fn check_slot(streamed: &SeqSet, recovered: &SeqSet, expected: &[u64]) -> SlotCheck {
    let mut check = SlotCheck::default();
    for &q in expected {
        if streamed.contains(q) {
            check.streamed += 1;
        } else if recovered.contains(q) {
            check.recovered += 1;
        } else {
            check.missing.push(q);
        }
    }
    check
}

/// What a request was, for the status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    SignInSetup,
    Stream,
    /// A stream opened with a token whose session had just been signed out.
    StreamStaleToken,
    SignIn,
    SignInBad,
    SignOut,
    Broadcast,
    SendToUser,
    MarkRead,
    ReadAll,
    Inbox,
    Refetch,
    Stats,
    FinalCheck,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignInSetup => "sign-in (setup)",
            Kind::Stream => "stream open",
            Kind::StreamStaleToken => "stream open, signed-out token",
            Kind::SignIn => "sign-in",
            Kind::SignInBad => "sign-in, bad password (decoy)",
            Kind::SignOut => "sign-out",
            Kind::Broadcast => "broadcast",
            Kind::SendToUser => "send-to-user",
            Kind::MarkRead => "mark-read",
            Kind::ReadAll => "read-all",
            Kind::Inbox => "inbox",
            Kind::Refetch => "inbox refetch after resync",
            Kind::Stats => "stats (admin)",
            Kind::FinalCheck => "final check (inbox)",
        }
    }

    /// Whether `status` is an answer this request may rightly get (0 = no
    /// answer: connection error or timeout, never expected).
    pub fn expects(self, status: u16) -> bool {
        match self {
            Kind::SignInBad => matches!(status, 401 | 429),
            Kind::StreamStaleToken => status == 401,
            Kind::SignOut => status == 204,
            Kind::MarkRead => status == 204,
            _ => status == 200,
        }
    }
}

/// Requests by kind and status.
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<(Kind, u16), u64>>);

impl Tally {
    pub fn add(&self, kind: Kind, status: u16) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((kind, status))
            .or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<(Kind, u16), u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub fn status_label(status: u16) -> String {
    if status == 0 {
        "no answer".into()
    } else {
        status.to_string()
    }
}

/// `200×1234 204×56 …` over all kinds.
pub fn by_status(tally: &BTreeMap<(Kind, u16), u64>) -> String {
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for ((_, status), n) in tally {
        *statuses.entry(*status).or_default() += n;
    }
    statuses
        .iter()
        .map(|(s, n)| format!("{}×{n}", status_label(*s)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A small xorshift generator: the soak needs spread, not statistics.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(salt: u64) -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_are_counted_once() {
        let mut s = SeqSet::default();
        assert!(s.insert(1));
        assert!(s.insert(2));
        assert!(!s.insert(2), "a second copy is reported");
        assert!(s.insert(200));
        assert_eq!(s.contiguous(), 2);
        assert!(s.contains(200) && !s.contains(3) && !s.contains(10_000));
    }

    #[test]
    fn a_slot_check_tells_received_recovered_and_lost_apart() {
        let (mut streamed, mut recovered) = (SeqSet::default(), SeqSet::default());
        for q in [1, 2, 3, 6] {
            streamed.insert(q);
        }
        recovered.insert(4);
        recovered.insert(3);
        let check = check_slot(&streamed, &recovered, &[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(check.streamed, 4);
        assert_eq!(check.recovered, 1);
        assert_eq!(check.missing, vec![5, 7]);
        // Positions of other users' entries are not this slot's to have.
        let check = check_slot(&streamed, &recovered, &[2, 4, 6, 9]);
        assert_eq!((check.streamed, check.recovered), (2, 1));
        assert_eq!(check.missing, vec![9]);
        assert_eq!(streamed.union_len(&recovered), 5);
    }

    #[test]
    fn only_bad_sign_ins_and_stale_tokens_may_be_refused() {
        assert!(Kind::SignInBad.expects(401) && Kind::SignInBad.expects(429));
        assert!(!Kind::SignInBad.expects(500) && !Kind::SignInBad.expects(200));
        assert!(Kind::StreamStaleToken.expects(401));
        assert!(!Kind::Stream.expects(429) && !Kind::Stream.expects(401));
        assert!(Kind::MarkRead.expects(204) && Kind::SignOut.expects(204));
        assert!(!Kind::Broadcast.expects(0), "no answer is never expected");
    }

    #[test]
    fn statuses_are_summed_over_kinds() {
        let t = Tally::default();
        t.add(Kind::Broadcast, 200);
        t.add(Kind::Inbox, 200);
        t.add(Kind::SignInBad, 429);
        t.add(Kind::Stream, 0);
        assert_eq!(by_status(&t.snapshot()), "no answer×1 200×2 429×1");
    }

    #[test]
    fn random_picks_stay_in_range() {
        let mut r = Rng::seeded(7);
        assert!((0..1000).all(|_| r.below(5) < 5));
        assert_eq!(r.below(0), 0);
        assert!(r.chance(1.0));
    }
}
