//! The inbox state one tab keeps beside the server-rendered page, and what
//! each event does to it.
//!
//! The unread count always comes from the server (every event carries it),
//! never from counting locally: the count on the wire already includes
//! reads and removals made in other tabs and devices. So do the counts per
//! category (the tabs'): `connected`, `notification.read` and
//! `preferences` carry all of them, a notification or a removal the one it
//! moved. A muted category's notification raises no toast and no system
//! notification (the server already leaves it out of the badge); a
//! critical one always does.

use super::{Connection, Cursor, Event, Overlay, Step};
use crate::model::{
    CategoryCounts, Channel, NotificationEvent, NotificationView, Preferences, ProgressEvent,
    ReadEvent, Severity, WithUnread,
};

/// A short-lived announcement of one new notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    connection: Connection,
    /// The count carried by the latest event; `None` until one arrives
    /// (the page's own count shows until then).
    unread: Option<i64>,
    /// The counts per category carried by the latest events; `None` until
    /// one arrives (the page's own show until then).
    by_category: Option<CategoryCounts>,
    /// The user's preferences, once known (the page, then `preferences`).
    preferences: Option<Preferences>,
    overlay: Overlay,
    toasts: Vec<Toast>,
    /// Critical notifications not yet acknowledged, oldest first.
    critical: Vec<NotificationView>,
    progress: Option<ProgressEvent>,
    /// Bumped whenever the page must be refetched (`resync`, or a gap).
    resyncs: u32,
    /// Bumped by each `console.changed` (admins): the console refetches.
    console_changes: u32,
    cursor: Cursor,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox {
            connection: Connection::Connecting,
            unread: None,
            by_category: None,
            preferences: None,
            overlay: Overlay::default(),
            toasts: Vec::new(),
            critical: Vec::new(),
            progress: None,
            resyncs: 0,
            console_changes: 0,
            cursor: Cursor::default(),
        }
    }
}

impl Inbox {
    pub fn connection(&self) -> Connection {
        self.connection
    }
    pub fn unread(&self) -> Option<i64> {
        self.unread
    }
    pub fn by_category(&self) -> Option<&CategoryCounts> {
        self.by_category.as_ref()
    }
    pub fn preferences(&self) -> Option<&Preferences> {
        self.preferences.as_ref()
    }
    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }
    pub fn toasts(&self) -> &[Toast] {
        &self.toasts
    }
    pub fn critical(&self) -> &[NotificationView] {
        &self.critical
    }
    pub fn progress(&self) -> Option<&ProgressEvent> {
        self.progress.as_ref()
    }
    pub fn resyncs(&self) -> u32 {
        self.resyncs
    }
    pub fn console_changes(&self) -> u32 {
        self.console_changes
    }
    /// Where a (re)opened stream resumes.
    pub fn last_position(&self) -> i64 {
        self.cursor.last_position()
    }

    /// Starts taking events in after what the server rendered.
    pub fn follow_from(&mut self, cursor: Cursor) {
        self.cursor = cursor;
    }

    /// Applies one event. Returns the notification that just arrived for
    /// the first time, if any, for the caller to announce (toast timer,
    /// system notification): each arrival is returned once however often
    /// it is replayed or relayed.
    pub fn apply(&mut self, event: Event) -> Option<NotificationView> {
        match event {
            Event::Connected {
                unread,
                by_category,
            } => {
                self.connection = Connection::Live;
                if let Some(unread) = unread {
                    self.unread = Some(unread);
                }
                if let Some(by_category) = by_category {
                    self.by_category = Some(by_category);
                }
            }
            Event::Notification(n) => {
                let entry = &n.event;
                if self.take(entry.notification.position, entry.ch, entry.off) {
                    return self.arrive(n);
                }
            }
            Event::Read(read) => self.read(&read),
            Event::Removed(WithUnread {
                event,
                unread,
                unread_by_category,
            }) => {
                if self.take(event.position, event.ch, event.off) {
                    self.merge_counts(unread_by_category);
                    // Gone from the inbox, like an archived one.
                    let gone = ReadEvent::archived(event.ids, unread);
                    self.unread = Some(unread);
                    self.mark(&gone);
                    self.toasts.retain(|t| !gone.ids.contains(&t.id));
                }
            }
            Event::Progress(p) => self.progress = Some(p),
            Event::Preferences(p) => {
                self.unread = Some(p.unread);
                self.by_category = Some(p.unread_by_category);
                self.preferences = Some(p.preferences);
            }
            Event::Resync => self.resyncs += 1,
            Event::ConsoleChanged => self.console_changes += 1,
            Event::State(state) => self.connection = state,
        }
        None
    }

    pub fn set_connection(&mut self, state: Connection) {
        self.connection = state;
    }

    /// The count an inbox action answered with (mark read, archive), so
    /// the badge is right before the stream's own event.
    pub fn set_unread(&mut self, unread: i64) {
        self.unread = Some(unread);
    }

    /// The preferences the page was rendered with, unless an event already
    /// brought newer ones.
    pub fn know_preferences(&mut self, preferences: Preferences) {
        self.preferences.get_or_insert(preferences);
    }

    /// Whether a notification raises a system notification: a critical
    /// one always; otherwise an uncategorised one, or one whose category the
    /// user chose desktop alerts for (and did not mute).
    pub fn wants_desktop(&self, n: &NotificationView) -> bool {
        if n.severity == Severity::Critical {
            return true;
        }
        let Some(category) = n.category.as_deref() else {
            return true;
        };
        let prefs = self.preferences.clone().unwrap_or_default();
        !prefs.is_muted(Some(category)) && prefs.desktop.iter().any(|d| d == category)
    }

    /// Whether the user muted this notification's category (never a critical one).
    fn muted(&self, n: &NotificationView) -> bool {
        n.severity != Severity::Critical
            && self
                .preferences
                .as_ref()
                .is_some_and(|p| p.is_muted(n.category.as_deref()))
    }

    /// Adds the counts an entry moved to those known.
    fn merge_counts(&mut self, moved: CategoryCounts) {
        if moved.is_empty() {
            return;
        }
        let counts = self.by_category.get_or_insert_with(CategoryCounts::new);
        for (category, n) in moved {
            if n == 0 {
                counts.remove(&category);
            } else {
                counts.insert(category, n);
            }
        }
    }

    /// The user acknowledged a critical banner.
    pub fn acknowledge(&mut self, id: i64) {
        self.critical.retain(|n| n.id != id);
    }

    pub fn expire_toast(&mut self, id: i64) {
        self.toasts.retain(|t| t.id != id);
    }

    /// Forgets local changes once the page was refetched; where the stream
    /// stands is kept.
    pub fn reset(&mut self) {
        self.overlay = Overlay::default();
        self.unread = None;
        self.by_category = None;
    }

    /// Runs a stored event through the cursor: false for a replay, which
    /// must change nothing; a gap asks for a refetch.
    fn take(&mut self, position: i64, ch: Channel, off: i64) -> bool {
        match self.cursor.take(position, ch, off) {
            Step::Replayed => false,
            Step::InOrder => true,
            Step::AfterGap => {
                self.resyncs += 1;
                true
            }
        }
    }

    fn arrive(&mut self, event: NotificationEvent) -> Option<NotificationView> {
        self.unread = Some(event.unread);
        self.merge_counts(event.unread_by_category);
        let n = event.event.notification;
        if !self.overlay.add(n.clone()) {
            return None; // rendered with the page already: never shown twice
        }
        if self.muted(&n) {
            return None; // listed under its tab, announced nowhere
        }
        if n.severity == Severity::Critical && !n.read {
            self.critical.push(n.clone());
        }
        self.toasts.push(Toast {
            id: n.id,
            title: n.title.clone(),
            severity: n.severity,
        });
        Some(n)
    }

    fn read(&mut self, read: &ReadEvent) {
        self.unread = Some(read.unread);
        self.by_category = Some(read.unread_by_category.clone());
        self.mark(read);
    }

    /// Marks what `read` says was read (or taken out) in the list.
    fn mark(&mut self, read: &ReadEvent) {
        self.overlay.apply_read(read);
        self.critical.retain(|n| {
            let in_scope = read
                .category
                .as_deref()
                .is_none_or(|c| n.category.as_deref() == Some(c));
            let read_up_to = in_scope && read.up_to_position.is_some_and(|p| n.position <= p);
            !(read.ids.contains(&n.id) || read_up_to)
        });
    }
}
