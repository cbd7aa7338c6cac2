//! Domain events: what use cases announce after they have written to the
//! store, and whose streams each goes to. How an event looks on the wire
//! (its SSE name, id and data) is [`wire`]'s; use cases never touch SSE
//! and the hub never knows which use case spoke.

use crate::model::{PreferencesEvent, ReadEvent, UserProgress};
use crate::server::{
    delivery::{
        hub::{Hub, Target},
        wire,
    },
    store::{
        announcements::Removal,
        notifications::{Counts, Published},
    },
};

#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// A notification entry was appended to the log (committed).
    Notified(Published),
    /// A removal entry was appended (retraction or expiry, committed).
    Removed(Removal),
    /// Some of a user's notifications were marked read; `read.unread` is
    /// exact at that write. What every tab of theirs is sent, as it is.
    NotificationsRead { user_id: i64, read: ReadEvent },
    /// A user saved their preferences; `preferences.unread` and its
    /// per-category counts are exact at that write (muting applied).
    PreferencesChanged {
        user_id: i64,
        preferences: PreferencesEvent,
    },
    /// Progress of a user's long-running task.
    Progress(UserProgress),
    /// One session ended (logout): its streams must close.
    SessionRevoked { session_id: String },
    /// A user's access changed (role change, password reset, deletion):
    /// every stream they have must close and reconnect with fresh rights.
    UserAccessRevoked { user_id: i64 },
}

impl DomainEvent {
    /// Applies the event to the hub; returns the stream deliveries queued.
    fn apply(self, hub: &Hub) -> usize {
        if matches!(
            self,
            DomainEvent::Notified(_)
                | DomainEvent::Removed(_)
                | DomainEvent::NotificationsRead { .. }
        ) {
            // The history or its funnel moved: admins' consoles refetch at
            // the next pulse (one per second at most, however many events).
            hub.console_changed();
        }
        match self {
            DomainEvent::Notified(published) => {
                let template = wire::notification(&published);
                let to = &published.entry.channel;
                if hub.learn_event_name(&published.event) {
                    // Before the notification, in the same queues: the
                    // page listens to the name by the time it comes.
                    hub.publish_to_pages(to, &wire::event_names(&published.event));
                }
                let counts_as = published.counts_as();
                let category = counts_as.category.as_deref();
                hub.apply_notification(
                    to,
                    published.entry.position,
                    &counts_as,
                    |unread, in_category| template.with_counts(unread, category.zip(in_category)),
                )
            }
            DomainEvent::Removed(removal) => {
                let template = wire::removal(&removal.entry, removal.removes);
                let category = removal.counts_as.category.as_deref();
                hub.apply_removal(
                    &removal.entry.channel,
                    &removal.entry.channel,
                    removal.entry.position,
                    removal.removes,
                    &removal.readers,
                    &removal.counts_as,
                    |unread, in_category| template.with_counts(unread, category.zip(in_category)),
                )
            }
            DomainEvent::NotificationsRead { user_id, read } => hub.apply_read(
                user_id,
                &Counts {
                    unread: read.unread,
                    by_category: read.unread_by_category.clone(),
                },
                read.up_to_position.filter(|_| read.category.is_none()),
                &wire::read(&read),
            ),
            DomainEvent::PreferencesChanged {
                user_id,
                preferences,
            } => hub.apply_preferences(
                user_id,
                &preferences.preferences.muted,
                &Counts {
                    unread: preferences.unread,
                    by_category: preferences.unread_by_category.clone(),
                },
                &wire::preferences(&preferences),
            ),
            DomainEvent::Progress(UserProgress { user_id, progress }) => {
                hub.publish(&Target::User(user_id), &wire::progress(&progress))
            }
            DomainEvent::SessionRevoked { session_id } => {
                hub.disconnect_session(&session_id);
                0
            }
            DomainEvent::UserAccessRevoked { user_id } => {
                hub.disconnect_user(user_id);
                0
            }
        }
    }
}

/// Fans the events out; returns how many stream deliveries were queued.
pub fn publish(hub: &Hub, events: impl IntoIterator<Item = DomainEvent>) -> usize {
    events.into_iter().map(|event| event.apply(hub)).sum()
}
