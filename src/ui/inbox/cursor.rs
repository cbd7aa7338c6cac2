//! Where a tab stands in the event log, so it takes each stored event in
//! once and notices when it missed one.
//!
//! Two numbers per event: its log position (`seq` in the data, also the SSE `id:`),
//! increasing but with holes (other users' events), and its offset in its
//! channel (`all`, `role:admin`, `user:42`), which is consecutive. So a
//! position at or below the newest one seen is a replay, and an offset that
//! is not the channel's last plus one means something in between never
//! reached this tab (e.g. it joined between the render and the relay).

use std::collections::HashMap;

use crate::model::{Channel, ChannelHead};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Highest log position taken in: where a reconnect resumes.
    last_position: i64,
    /// Last offset seen per channel.
    offsets: HashMap<Channel, i64>,
}

/// What taking in one stored event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Taken in already (a replay after a reconnect, or a relayed copy of
    /// what the page was rendered with): must not be shown again.
    Replayed,
    /// The next one, nothing missed.
    InOrder,
    /// New, but the channel skipped offsets: this tab missed something and
    /// must refetch.
    AfterGap,
}

impl Cursor {
    /// Starts after what the server rendered: its log position and the
    /// last offset of each of the user's channels at that position.
    pub fn new(last_position: i64, channels: Vec<ChannelHead>) -> Self {
        Cursor {
            last_position,
            offsets: channels.into_iter().map(|c| (c.ch, c.off)).collect(),
        }
    }

    pub fn last_position(&self) -> i64 {
        self.last_position
    }

    /// Takes in the stored event at `position`, offset `off` of channel
    /// `ch`. A channel not seen yet is adopted as it is.
    pub fn take(&mut self, position: i64, ch: Channel, off: i64) -> Step {
        if position <= self.last_position {
            return Step::Replayed;
        }
        self.last_position = position;
        let gap = self.offsets.get(&ch).is_some_and(|last| off != last + 1);
        self.offsets.insert(ch, off);
        if gap {
            Step::AfterGap
        } else {
            Step::InOrder
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Channel = Channel::All;
    const ADMINS: Channel = Channel::Role(crate::model::Role::Admin);
    const USER_7: Channel = Channel::User(7);

    fn rendered_at(position: i64, heads: &[(Channel, i64)]) -> Cursor {
        Cursor::new(
            position,
            heads
                .iter()
                .map(|&(ch, off)| ChannelHead { ch, off })
                .collect(),
        )
    }

    #[test]
    fn consecutive_offsets_are_in_order_and_move_the_resume_point() {
        let mut c = rendered_at(10, &[(ALL, 4), (USER_7, 2)]);
        assert_eq!(c.take(11, ALL, 5), Step::InOrder);
        assert_eq!(c.take(15, USER_7, 3), Step::InOrder);
        assert_eq!(c.take(16, ALL, 6), Step::InOrder);
        assert_eq!(c.last_position(), 16);
    }

    #[test]
    fn a_skipped_offset_is_a_gap_once_then_the_channel_goes_on_from_there() {
        let mut c = rendered_at(10, &[(ALL, 4)]);
        assert_eq!(c.take(13, ALL, 6), Step::AfterGap, "offset 5 never came");
        assert_eq!(c.take(14, ALL, 7), Step::InOrder);
    }

    #[test]
    fn positions_already_taken_in_are_replays_and_change_nothing() {
        let mut c = rendered_at(10, &[(ALL, 4)]);
        assert_eq!(c.take(10, ALL, 4), Step::Replayed, "rendered already");
        assert_eq!(c.take(7, ALL, 2), Step::Replayed);
        assert_eq!(c.take(11, ALL, 5), Step::InOrder);
        assert_eq!(c.take(11, ALL, 5), Step::Replayed, "relayed twice");
        assert_eq!(c.last_position(), 11);
        assert_eq!(c.take(12, ALL, 6), Step::InOrder, "offsets untouched");
    }

    #[test]
    fn a_channel_not_rendered_is_adopted() {
        let mut c = rendered_at(10, &[]);
        assert_eq!(c.take(11, ADMINS, 40), Step::InOrder);
        assert_eq!(c.take(12, ADMINS, 42), Step::AfterGap);
        assert_eq!(c.take(12, ADMINS, 42), Step::Replayed);
    }
}
