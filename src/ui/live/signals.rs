//! The inbox state in signals, for the components.
//!
//! One signal holds the whole [`Inbox`]; every change goes through its
//! rules. Components read through memos, one per part, so a toast expiring
//! does not redraw the list, as with separate signals.

use leptos::prelude::*;

use crate::model::{CategoryCounts, NotificationView, Preferences, ProgressEvent};
use crate::ui::inbox::{Connection, Cursor, Event, Inbox, Overlay, Toast};

#[derive(Debug, Clone, Copy)]
pub struct LiveInbox {
    state: RwSignal<Inbox>,
    pub connection: Memo<Connection>,
    /// The unread count carried by the latest event; `None` until one arrives.
    pub unread: Memo<Option<i64>>,
    /// Unread per category (the tabs), from the latest events; `None` until one arrives.
    pub by_category: Memo<Option<CategoryCounts>>,
    /// The user's preferences, once known.
    pub preferences: Memo<Option<Preferences>>,
    /// What changed since the server rendered the page: the server renders
    /// the inbox from a resource and this only holds arrivals and read and
    /// archived ids, so server and browser render the same first HTML.
    pub overlay: Memo<Overlay>,
    pub toasts: Memo<Vec<Toast>>,
    /// Critical notifications not yet acknowledged, oldest first.
    pub critical: Memo<Vec<NotificationView>>,
    pub progress: Memo<Option<ProgressEvent>>,
    /// Bumped when the page must be refetched (`resync`, or a gap).
    pub resyncs: Memo<u32>,
    /// Bumped by each `console.changed` (admins' streams only).
    pub console_changes: Memo<u32>,
    /// Milliseconds since the epoch, ticking in the browser only; `None`
    /// during SSR and hydration so both render absolute times.
    pub now_ms: RwSignal<Option<f64>>,
}

impl LiveInbox {
    pub fn new() -> Self {
        let state = RwSignal::new(Inbox::default());
        LiveInbox {
            state,
            connection: Memo::new(move |_| state.with(Inbox::connection)),
            unread: Memo::new(move |_| state.with(Inbox::unread)),
            by_category: Memo::new(move |_| state.with(|s| s.by_category().cloned())),
            preferences: Memo::new(move |_| state.with(|s| s.preferences().cloned())),
            overlay: Memo::new(move |_| state.with(|s| s.overlay().clone())),
            toasts: Memo::new(move |_| state.with(|s| s.toasts().to_vec())),
            critical: Memo::new(move |_| state.with(|s| s.critical().to_vec())),
            progress: Memo::new(move |_| state.with(|s| s.progress().cloned())),
            resyncs: Memo::new(move |_| state.with(Inbox::resyncs)),
            console_changes: Memo::new(move |_| state.with(Inbox::console_changes)),
            now_ms: RwSignal::new(None),
        }
    }

    /// Applies one event; returns a notification seen for the first time.
    pub fn apply(&self, event: Event) -> Option<NotificationView> {
        let mut arrived = None;
        self.state.update(|s| arrived = s.apply(event));
        arrived
    }

    pub fn follow_from(&self, cursor: Cursor) {
        self.state.update(|s| s.follow_from(cursor));
    }

    pub fn last_position(&self) -> i64 {
        self.state.with_untracked(Inbox::last_position)
    }

    pub fn set_connection(&self, state: Connection) {
        self.state.update(|s| s.set_connection(state));
    }

    pub fn set_unread(&self, unread: i64) {
        self.state.update(|s| s.set_unread(unread));
    }

    pub fn know_preferences(&self, preferences: Preferences) {
        self.state.update(|s| s.know_preferences(preferences));
    }

    /// Whether this arrival raises a system notification.
    pub fn wants_desktop(&self, n: &NotificationView) -> bool {
        self.state.with_untracked(|s| s.wants_desktop(n))
    }

    pub fn acknowledge(&self, id: i64) {
        self.state.update(|s| s.acknowledge(id));
    }

    pub fn expire_toast(&self, id: i64) {
        self.state.update(|s| s.expire_toast(id));
    }

    /// Forget local changes after the inbox was refetched.
    pub fn reset(&self) {
        self.state.update(Inbox::reset);
    }
}

impl Default for LiveInbox {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, ReadEvent, RemovalEntry, WithUnread};

    /// The memos show the parts of the one state they are named after.
    #[test]
    fn each_memo_follows_its_part_of_the_state() {
        let owner = Owner::new();
        owner.with(|| {
            let live = LiveInbox::new();
            live.apply(Event::Connected {
                unread: Some(4),
                by_category: None,
            });
            live.apply(Event::Read(ReadEvent::ids(vec![7], 3)));
            assert_eq!(live.connection.get_untracked(), Connection::Live);
            assert_eq!(live.unread.get_untracked(), Some(3));
            live.apply(Event::Resync);
            live.apply(Event::Removed(WithUnread {
                unread_by_category: Default::default(),
                event: RemovalEntry {
                    ids: vec![7],
                    position: 1,
                    ch: Channel::All,
                    off: 0,
                },
                unread: 2,
            }));
            assert_eq!(live.resyncs.get_untracked(), 1);
            assert_eq!(live.unread.get_untracked(), Some(2));
            assert_ne!(live.overlay.get_untracked(), Overlay::default());
            let progress = ProgressEvent {
                task_id: "t".into(),
                progress: 10,
                status: "running".into(),
            };
            live.apply(Event::Progress(progress.clone()));
            assert_eq!(live.progress.get_untracked(), Some(progress));
            live.reset();
            assert_eq!(live.unread.get_untracked(), None);
            assert_eq!(live.last_position(), 1, "reset keeps the stream position");
            assert_eq!(live.overlay.get_untracked(), Overlay::default());
        });
    }
}
