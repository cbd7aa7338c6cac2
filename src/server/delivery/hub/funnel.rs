//! The funnel's "delivered" watermark, kept per live user in memory and
//! taken in batches by `tasks::funnel_flush` (publishing writes nothing per
//! user); and the eviction of counters that lingered out, an explicit step
//! of its own that loses no watermark.

use std::time::Instant;

use super::{Hub, UserId};

impl Hub {
    /// A stream replayed up to `position` for this user (the funnel's delivered).
    pub fn note_delivered(&self, user_id: UserId, position: i64) {
        if let Some(user) = self.write().users.get_mut(&user_id) {
            user.delivered = user.delivered.max(position);
        }
    }

    /// For the funnel: each user brought further since the last call, with
    /// the position they reached (evicted users' last advances included).
    pub fn take_delivered(&self) -> Vec<(UserId, i64)> {
        let mut reg = self.write();
        let mut out = std::mem::take(&mut reg.evicted_delivered);
        for (id, user) in reg.users.iter_mut() {
            if user.delivered > user.flushed {
                user.flushed = user.delivered;
                out.push((*id, user.delivered));
            }
        }
        out
    }

    /// Forgets the counters that lingered past `LINGER` after their last
    /// stream closed, as of `now`; returns how many. An advance the funnel
    /// has not taken yet is kept for its next `take_delivered`.
    pub fn evict_lingering(&self, now: Instant) -> usize {
        let mut reg = self.write();
        let before = reg.users.len();
        let mut kept = Vec::new();
        reg.users.retain(|id, user| {
            let stays = user.linger_until.is_none_or(|until| until > now);
            if !stays && user.delivered > user.flushed {
                kept.push((*id, user.delivered));
            }
            stays
        });
        let evicted = before - reg.users.len();
        reg.evicted_delivered.extend(kept);
        evicted
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        model::Role,
        server::delivery::hub::{ClientInfo, EventName, Frame, Target, LINGER},
    };

    #[tokio::test]
    async fn a_lingering_counter_is_evicted_after_linger_and_keeps_its_watermark() {
        let hub = Hub::new(8, 4);
        let info = ClientInfo {
            user_id: 7,
            role: Role::User,
            session_id: "s".into(),
            page_events: false,
        };
        let sub = hub.subscribe(info).expect("attach");
        let frame = Frame::new(&EventName::NOTIFICATION, Some(5), &[1]);
        assert_eq!(
            hub.apply_notification(&Target::All, 5, &Default::default(), |_, _| frame.clone()),
            1
        );
        drop(sub);
        let now = Instant::now();
        assert_eq!(hub.evict_lingering(now), 0, "still lingering");
        assert_eq!(hub.live_users(), 1);
        let later = now + LINGER + Duration::from_secs(1);
        assert_eq!(hub.evict_lingering(later), 1, "lingered out");
        assert_eq!(hub.live_users(), 0);
        assert_eq!(
            hub.take_delivered(),
            vec![(7, 5)],
            "the advance the funnel had not taken survives the eviction"
        );
        assert!(hub.take_delivered().is_empty(), "and is taken once");
    }
}
