//! How far the streams are behind the last fan-out. The publisher asks
//! before each turn and waits, briefly, while most recipients of the last
//! notification have not taken it from their queues yet: a flood of
//! publishes then runs at the speed the streams are written, instead of
//! overflowing their queues (each overflow costs a client a `resync` and a
//! refetch).
//!
//! Measured at no cost per delivery: the hub keeps the last fan-out's
//! frames, and a frame's reference count, less the hub's own, is the number
//! of queues still holding it. A stream that stopped reading holds its
//! frames until it lags or times out, so the measure is "most", not "all",
//! and the wait is bounded (`delivery::publisher`).

use std::sync::Mutex;

use super::{Frame, Hub};

/// Fan-outs to fewer streams than this are not worth pacing.
pub const PACED_FROM: usize = 100;

/// The frames of the last fan-out and how many queues they reached.
#[derive(Default)]
pub(super) struct LastFanOut(Mutex<Option<(Vec<Frame>, usize)>>);

impl LastFanOut {
    pub(super) fn remember(&self, frames: Vec<Frame>, reached: usize) {
        if reached >= PACED_FROM {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((frames, reached));
        }
    }
}

impl Hub {
    /// Queues still holding the last fan-out's frames, and how many it
    /// reached (`None` before any worth pacing).
    pub fn fan_out_pending(&self) -> Option<(usize, usize)> {
        let last = self
            .inner
            .last_fan_out
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (frames, reached) = last.as_ref()?;
        let held: usize = frames.iter().map(|f| f.holders() - 1).sum();
        Some((held, *reached))
    }

    /// More than half the last fan-out's recipients have not taken it yet.
    pub fn fan_out_behind(&self) -> bool {
        self.fan_out_pending()
            .is_some_and(|(held, reached)| held * 2 > reached)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Role;
    use crate::server::delivery::hub::{ClientInfo, EventName, Frame, Hub, Target};

    #[tokio::test]
    async fn behind_until_most_streams_took_the_last_fan_out() {
        let hub = Hub::new(8, 1);
        let mut streams: Vec<_> = (0..super::PACED_FROM as i64)
            .map(|user_id| {
                hub.subscribe(ClientInfo {
                    user_id,
                    role: Role::User,
                    session_id: format!("s{user_id}"),
                })
                .unwrap()
            })
            .collect();
        assert_eq!(hub.fan_out_pending(), None);

        let frame = Frame::new(&EventName::NOTIFICATION, Some(1), &serde_json::json!({}));
        let reached = hub.apply_notification(&Target::All, 1, |_| frame.clone());
        drop(frame);
        assert_eq!(reached, super::PACED_FROM);
        assert_eq!(hub.fan_out_pending(), Some((reached, reached)));
        assert!(hub.fan_out_behind());

        // Fewer than half the streams take it: still behind; half: caught up.
        let half = reached / 2;
        for stream in &mut streams[..half - 1] {
            drop(stream.recv().await.unwrap());
        }
        assert!(hub.fan_out_behind());
        drop(streams[half - 1].recv().await.unwrap());
        assert!(!hub.fan_out_behind());
        // A stream that goes away lets go of what it held.
        streams.truncate(half);
        assert_eq!(hub.fan_out_pending(), Some((0, reached)));
    }
}
