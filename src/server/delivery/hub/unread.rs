//! The unread-counter state machine of one live user. A counter starts
//! from exact counts read from the log (`notifications::counter_seed`)
//! and then follows the log in the order the hub applies it: `+1` per
//! notification in one of the user's channels, `-1` per removal of one they
//! could see and had not read, and the absolute values carried by their own
//! reads and preference changes (computed in that write's own transaction).
//!
//! **Per category (issue 19).** A counter is a family of counts: one per
//! category, and the badge. Every notification is stored once with its
//! category and severity, which never change, so the entry that moves one
//! count tells the counter which: the `+1` and `-1` above land in that
//! category's count, and in the badge unless the category is muted and the
//! notification is not critical. Each count is the same fold as the single
//! count was, restricted to one category, from an exact seed, with the
//! same absolute resets at reads; so each stays exact by the same argument
//! (docs/event-log.md §3). Muting is not in the log: it is the user's own
//! write, applied in log order like a read (the seed reads it, and a
//! change sets the badge to the value its transaction computed), so the
//! badge is exact at every position too. Nothing here is written per user
//! at publish: muting costs one set lookup per live user in memory.

use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

use super::{registry::LiveUser, ClientId, Target, UserId, LINGER};
use crate::model::{CategoryCounts, Role};
use crate::server::store::notifications::{CounterSeed, Counts, CountsAs};

impl LiveUser {
    /// A counter seeded at the hub's applied position; it lingers until a
    /// client is added (a refused one leaves it to linger out like any other).
    pub fn seeded(role: Role, seed: CounterSeed, clients: Vec<ClientId>) -> LiveUser {
        LiveUser {
            clients,
            role,
            unread: seed.counts.unread,
            by_category: seed.counts.by_category.into_iter().collect(),
            muted: seed.muted.into_iter().collect(),
            read_all_up_to: seed.read_all_up_to,
            spans: seed.spans,
            delivered: 0,
            flushed: 0,
            linger_until: Some(Instant::now() + LINGER),
        }
    }

    /// Whether an entry that counts as `counts_as` moves their badge.
    fn in_badge(&self, counts_as: &CountsAs) -> bool {
        counts_as.in_badge(&|c: &str| self.muted.contains(c))
    }

    /// A notification in one of their channels.
    pub fn count_notification(&mut self, counts_as: &CountsAs) {
        if self.in_badge(counts_as) {
            self.unread += 1;
        }
        if let Some(category) = &counts_as.category {
            *self.by_category.entry(category.clone()).or_default() += 1;
        }
    }

    /// A removal of the notification at position `removes` in `channel`:
    /// one less unread if they could see it and had not read it (`readers`
    /// read it one by one; a read-all covers it below `read_all_up_to`).
    pub fn count_removal(
        &mut self,
        user_id: UserId,
        channel: &Target,
        removes: i64,
        readers: &HashSet<UserId>,
        counts_as: &CountsAs,
    ) {
        // A live user's spans are those of its seed, whose open spans
        // cover everything applied since (a role change forgets the
        // counter: `Hub::disconnect_user`).
        let had_it = self.spans.iter().any(|s| s.covers(channel, removes));
        if !(had_it && removes > self.read_all_up_to && !readers.contains(&user_id)) {
            return;
        }
        if self.in_badge(counts_as) {
            self.unread = (self.unread - 1).max(0);
        }
        if let Some(category) = &counts_as.category {
            if let Some(n) = self.by_category.get_mut(category) {
                *n = (*n - 1).max(0);
                if *n == 0 {
                    self.by_category.remove(category);
                }
            }
        }
    }

    /// Their own read: the exact counts its transaction computed.
    pub fn count_read(&mut self, counts: &Counts, read_all_up_to: Option<i64>) {
        self.set_counts(counts);
        if let Some(up_to) = read_all_up_to {
            self.read_all_up_to = self.read_all_up_to.max(up_to);
        }
    }

    /// Their new muted categories, with the counts their transaction
    /// computed under them.
    pub fn set_preferences(&mut self, muted: &[String], counts: &Counts) {
        self.muted = muted.iter().cloned().collect();
        self.set_counts(counts);
    }

    fn set_counts(&mut self, counts: &Counts) {
        self.unread = counts.unread;
        self.by_category = counts
            .by_category
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c.clone(), *n))
            .collect();
    }

    /// The count of one category (0 when none is unread).
    pub fn category_count(&self, category: &str) -> i64 {
        self.by_category.get(category).copied().unwrap_or(0)
    }

    /// Every category's count, for `connected`.
    pub fn counts(&self) -> Counts {
        Counts {
            unread: self.unread,
            by_category: self
                .by_category
                .iter()
                .map(|(c, n)| (c.clone(), *n))
                .collect::<CategoryCounts>(),
        }
    }
}

/// The per-category counts as the registry keeps them.
pub(super) type ByCategory = HashMap<String, i64>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;
    use crate::server::store::log::Span;

    fn user(muted: &[&str]) -> LiveUser {
        let seed = CounterSeed {
            counts: Counts::default(),
            muted: muted.iter().map(|m| m.to_string()).collect(),
            read_all_up_to: 0,
            spans: vec![Span {
                channel: Channel::All,
                from: 0,
                to: None,
            }],
            head: 0,
        };
        LiveUser::seeded(Role::User, seed, Vec::new())
    }

    fn counts_as(category: Option<&str>, critical: bool) -> CountsAs {
        CountsAs {
            category: category.map(str::to_string),
            critical,
        }
    }

    /// The fold, per category and for the badge: a muted category moves
    /// its own count, never the badge, unless the entry is critical; a
    /// removal undoes exactly what its notification did.
    #[test]
    fn each_entry_moves_its_category_and_the_badge_unless_muted() {
        let mut u = user(&["deploys"]);
        let entries = [
            counts_as(Some("deploys"), false),
            counts_as(Some("deploys"), true),
            counts_as(Some("billing"), false),
            counts_as(None, false),
        ];
        for e in &entries {
            u.count_notification(e);
        }
        assert_eq!(u.unread, 3, "the muted, non-critical one is left out");
        assert_eq!(u.category_count("deploys"), 2);
        assert_eq!(u.category_count("billing"), 1);
        let none = HashSet::new();
        // Removing the muted one takes it from its tab, not from the badge.
        u.count_removal(7, &Channel::All, 1, &none, &entries[0]);
        assert_eq!((u.unread, u.category_count("deploys")), (3, 1));
        for (position, e) in (2..).zip(&entries[1..]) {
            u.count_removal(7, &Channel::All, position, &none, e);
        }
        assert_eq!((u.unread, u.counts().by_category.len()), (0, 0));
        // A removal of what the user had read (one by one) moves nothing.
        u.count_notification(&entries[2]);
        let readers = HashSet::from([7]);
        u.count_removal(7, &Channel::All, 9, &readers, &entries[2]);
        assert_eq!((u.unread, u.category_count("billing")), (1, 1));
    }

    #[test]
    fn reads_and_preferences_set_absolute_counts() {
        let mut u = user(&[]);
        u.count_notification(&counts_as(Some("deploys"), false));
        let exact = Counts {
            unread: 0,
            by_category: [("deploys".to_string(), 1)].into(),
        };
        u.set_preferences(&["deploys".to_string()], &exact);
        assert_eq!((u.unread, u.category_count("deploys")), (0, 1));
        u.count_notification(&counts_as(Some("deploys"), false));
        assert_eq!((u.unread, u.category_count("deploys")), (0, 2));
        let read = Counts {
            unread: 0,
            by_category: [("deploys".to_string(), 0)].into(),
        };
        u.count_read(&read, None);
        assert!(u.counts().by_category.is_empty(), "no zero entries kept");
    }
}
