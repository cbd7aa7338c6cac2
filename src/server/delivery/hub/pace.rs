//! How far the streams are behind the fan-outs. The publisher asks before
//! each turn and waits, briefly, while most recipients of the notification
//! before the last have not taken it from their queues yet, i.e. while the
//! streams are more than one fan-out behind: a flood of publishes then runs
//! at the speed the streams are written, instead of overflowing their
//! queues (each overflow costs a client a `resync` and a refetch). Within
//! that one fan-out of slack a publish never waits for the streams: the
//! next fan-out is queued while the one before is still being written.
//!
//! Measured at no cost per delivery: the hub keeps the last two fan-outs'
//! frames, and a frame's reference count, less the hub's own, is the number
//! of queues still holding it. A stream that stopped reading holds its
//! frames until it lags or times out, so the measure is "most", not "all",
//! and the wait is bounded (`delivery::publisher`).

use std::{collections::VecDeque, sync::Mutex};

use super::{Frame, Hub};

/// Fan-outs to fewer streams than this are not worth pacing.
pub const PACED_FROM: usize = 100;

/// The frames of the last two fan-outs and how many queues each reached,
/// the older first.
#[derive(Default)]
pub(super) struct LastFanOuts(Mutex<VecDeque<(Vec<Frame>, usize)>>);

impl LastFanOuts {
    pub(super) fn remember(&self, frames: Vec<Frame>, reached: usize) {
        if reached < PACED_FROM {
            return;
        }
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() == 2 {
            last.pop_front();
        }
        last.push_back((frames, reached));
    }
}

impl Hub {
    /// Queues still holding the frames of the fan-out before the last, and
    /// how many it reached (`None` until two worth pacing happened).
    pub fn fan_out_pending(&self) -> Option<(usize, usize)> {
        let last = self
            .inner
            .last_fan_outs
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (frames, reached) = last.front().filter(|_| last.len() == 2)?;
        let held: usize = frames.iter().map(|f| f.holders() - 1).sum();
        Some((held, *reached))
    }

    /// More than half the recipients of the fan-out before the last have
    /// not taken it yet: the streams are more than one fan-out behind.
    pub fn fan_out_behind(&self) -> bool {
        self.fan_out_pending()
            .is_some_and(|(held, reached)| held * 2 > reached)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Role;
    use crate::server::delivery::hub::{ClientInfo, EventName, Frame, Hub, Target};

    fn fan_out(hub: &Hub, position: i64) -> usize {
        let frame = Frame::new(
            &EventName::NOTIFICATION,
            Some(position),
            &serde_json::json!({}),
        );
        hub.apply_notification(&Target::All, position, &Default::default(), |_, _| {
            frame.clone()
        })
    }

    #[tokio::test]
    async fn behind_while_most_streams_are_more_than_one_fan_out_behind() {
        let hub = Hub::new(8, 1);
        let mut streams: Vec<_> = (0..super::PACED_FROM as i64)
            .map(|user_id| {
                hub.subscribe(ClientInfo {
                    user_id,
                    role: Role::User,
                    session_id: format!("s{user_id}"),
                    page_events: false,
                })
                .unwrap()
            })
            .collect();
        let reached = fan_out(&hub, 1);
        assert_eq!(reached, super::PACED_FROM);
        // One fan-out in flight is the slack publishing has.
        assert_eq!(hub.fan_out_pending(), None);
        assert!(!hub.fan_out_behind());
        fan_out(&hub, 2);
        assert_eq!(hub.fan_out_pending(), Some((reached, reached)));
        assert!(hub.fan_out_behind());

        // Fewer than half the streams take the first: still behind; half: not.
        let half = reached / 2;
        for stream in &mut streams[..half - 1] {
            drop(stream.recv().await.unwrap());
        }
        assert!(hub.fan_out_behind());
        drop(streams[half - 1].recv().await.unwrap());
        assert!(!hub.fan_out_behind());
        // The next fan-out makes the second the one to watch, which nobody took.
        fan_out(&hub, 3);
        assert_eq!(hub.fan_out_pending(), Some((reached, reached)));
        // Streams that go away let go of what they held.
        streams.truncate(half);
        assert_eq!(hub.fan_out_pending(), Some((half, reached)));
        assert!(!hub.fan_out_behind());
    }
}
