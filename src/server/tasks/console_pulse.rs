//! The admin console's live updates, without a poll: once a second at
//! most, when something the console shows changed on this instance (an
//! announcement applied, a read, a removal, a funnel flush, a stream opened
//! or closed), admins' page streams here (`?page=1`) get one `console.changed` and each
//! console refetches once. Cost: O(admin streams) frames per pulse, never
//! per delivery per admin; an idle second costs two atomic reads.
//!
//! On a cluster each instance pulses its own admins for what it applied:
//! announcements, reads and removals reach every instance's follower, so
//! every console hears of those; a funnel flush or a stream count change on
//! another instance shows at the next pulse for any other reason.

use std::time::Duration;

use crate::{
    model::{Channel, Role},
    server::{delivery::wire, periodic, state::AppState},
};

pub const PERIOD: Duration = Duration::from_secs(1);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let mut streams_seen = (0, 0);
    periodic::every(PERIOD, move || {
        let counters = state.hub.counters();
        let streams = (
            counters
                .streams_opened
                .load(std::sync::atomic::Ordering::Relaxed),
            counters
                .streams_closed
                .load(std::sync::atomic::Ordering::Relaxed),
        );
        let streams_moved = std::mem::replace(&mut streams_seen, streams) != streams;
        if state.hub.take_console_changed() || streams_moved {
            state
                .hub
                .publish_to_pages(&Channel::Role(Role::Admin), &wire::console_changed());
        }
        async {}
    })
}
