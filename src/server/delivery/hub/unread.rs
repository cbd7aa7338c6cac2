//! The unread-counter state machine of one live user. A counter starts
//! from an exact count read from the log (`notifications::counter_seed`)
//! and then follows the log in the order the hub applies it: `+1` per
//! notification in one of the user's channels, `-1` per removal of one they
//! could see and had not read, and the absolute value carried by their own
//! reads (computed in the read's own transaction).

use std::{collections::HashSet, time::Instant};

use super::{registry::LiveUser, ClientId, Target, UserId, LINGER};
use crate::model::Role;
use crate::server::store::notifications::CounterSeed;

impl LiveUser {
    /// A counter seeded at the hub's applied position; it lingers until a
    /// client is added (a refused one leaves it to linger out like any other).
    pub fn seeded(role: Role, seed: CounterSeed, clients: Vec<ClientId>) -> LiveUser {
        LiveUser {
            clients,
            role,
            unread: seed.unread,
            read_all_up_to: seed.read_all_up_to,
            spans: seed.spans,
            delivered: 0,
            flushed: 0,
            linger_until: Some(Instant::now() + LINGER),
        }
    }

    /// A notification in one of their channels.
    pub fn count_notification(&mut self) {
        self.unread += 1;
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
    ) {
        // A live user's spans are those of its seed, whose open spans
        // cover everything applied since (a role change forgets the
        // counter: `Hub::disconnect_user`).
        let had_it = self.spans.iter().any(|s| s.covers(channel, removes));
        if had_it && removes > self.read_all_up_to && !readers.contains(&user_id) {
            self.unread = (self.unread - 1).max(0);
        }
    }

    /// Their own read: the exact count its transaction computed.
    pub fn count_read(&mut self, unread: i64, read_all_up_to: Option<i64>) {
        self.unread = unread;
        if let Some(up_to) = read_all_up_to {
            self.read_all_up_to = self.read_all_up_to.max(up_to);
        }
    }
}
