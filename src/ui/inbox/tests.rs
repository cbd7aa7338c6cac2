//! The inbox state driven the way a tab drives it: events in, what the
//! user would see out (count, list, toasts, banners, refetches).

use super::*;
use crate::model::{
    Channel, ChannelHead, NotificationEntry, NotificationView, ProgressEvent, ReadEvent,
    RemovalEntry, Severity, WithUnread,
};

/// A page rendered at log position 10, when channel `all` was at offset 4,
/// showing notifications 1 and 2 (positions 9 and 10) and 2 unread.
fn rendered() -> Vec<NotificationView> {
    vec![view(2, 10, Severity::Info), view(1, 9, Severity::Info)]
}

fn inbox() -> Inbox {
    let mut inbox = Inbox::default();
    inbox.follow_from(Cursor::new(
        10,
        vec![ChannelHead {
            ch: Channel::All,
            off: 4,
        }],
    ));
    inbox
}

/// A notification titled `n<id>`, unread, with nothing optional: the
/// fixture of every inbox test (the overlay's too).
pub(super) fn view(id: i64, position: i64, severity: Severity) -> NotificationView {
    NotificationView {
        category: None,
        data: None,
        actions: Vec::new(),
        id,
        position,
        title: format!("n{id}"),
        body: String::new(),
        severity,
        link: None,
        created_at: String::new(),
        read: false,
    }
}

fn arrival(id: i64, position: i64, off: i64, unread: i64) -> Event {
    arrival_of(view(id, position, Severity::Info), off, unread)
}

fn arrival_of(n: NotificationView, off: i64, unread: i64) -> Event {
    Event::Notification(WithUnread {
        unread_by_category: Default::default(),
        event: NotificationEntry {
            notification: n,
            ch: Channel::All,
            off,
        },
        unread,
    })
}

fn read(ids: &[i64], up_to_position: Option<i64>, unread: i64) -> Event {
    Event::Read(ReadEvent {
        category: None,
        unread_by_category: Default::default(),
        ids: ids.to_vec(),
        up_to_position,
        archived: false,
        archived_read_up_to: None,
        unread,
    })
}

fn removal(ids: &[i64], position: i64, off: i64, unread: i64) -> Event {
    Event::Removed(WithUnread {
        unread_by_category: Default::default(),
        event: RemovalEntry {
            ids: ids.to_vec(),
            position,
            ch: Channel::All,
            off,
        },
        unread,
    })
}

/// The list the user sees: (id, read) newest first.
fn shown(inbox: &Inbox) -> Vec<(i64, bool)> {
    inbox
        .overlay()
        .merge(&rendered(), 50)
        .iter()
        .map(|n| (n.id, n.read))
        .collect()
}

fn toast_ids(inbox: &Inbox) -> Vec<i64> {
    inbox.toasts().iter().map(|t| t.id).collect()
}

#[test]
fn connecting_goes_live_with_the_servers_count() {
    let mut inbox = inbox();
    assert_eq!(inbox.connection(), Connection::Connecting);
    assert_eq!(inbox.unread(), None, "the page's count shows until then");
    inbox.apply(Event::Connected {
        unread: Some(2),
        by_category: None,
    });
    assert_eq!(inbox.connection(), Connection::Live);
    assert_eq!(inbox.unread(), Some(2));
    inbox.apply(Event::Connected {
        unread: None,
        by_category: None,
    });
    assert_eq!(inbox.unread(), Some(2), "unreadable data keeps the count");
}

#[test]
fn a_new_notification_goes_on_top_counts_and_is_announced() {
    let mut inbox = inbox();
    let announced = inbox.apply(arrival(3, 12, 5, 3));
    assert_eq!(announced.map(|n| n.id), Some(3));
    assert_eq!(inbox.unread(), Some(3));
    assert_eq!(shown(&inbox), [(3, false), (2, false), (1, false)]);
    assert_eq!(toast_ids(&inbox), [3]);
    assert_eq!(inbox.last_position(), 12, "a reconnect resumes after it");
    assert_eq!(inbox.resyncs(), 0);
}

#[test]
fn a_replayed_or_relayed_copy_is_dropped_without_a_trace() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    inbox.expire_toast(3);
    inbox.set_unread(2); // the user read one meanwhile
    let before = inbox.clone();

    assert_eq!(
        inbox.apply(arrival(3, 12, 5, 3)),
        None,
        "replay after reconnect"
    );
    assert_eq!(
        inbox.apply(arrival(2, 10, 4, 3)),
        None,
        "rendered with the page"
    );
    assert_eq!(inbox, before, "not even the count moved back");
}

#[test]
fn the_same_notification_at_a_new_position_is_not_shown_twice() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    assert_eq!(inbox.apply(arrival(3, 13, 6, 3)), None);
    assert_eq!(shown(&inbox), [(3, false), (2, false), (1, false)]);
    assert_eq!(toast_ids(&inbox), [3]);
}

#[test]
fn a_gap_in_the_channel_asks_for_a_refetch_and_still_shows_what_came() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    assert_eq!(inbox.resyncs(), 0);
    let announced = inbox.apply(arrival(5, 20, 7, 5)); // offset 6 never came
    assert_eq!(inbox.resyncs(), 1);
    assert_eq!(announced.map(|n| n.id), Some(5));
    assert_eq!(inbox.unread(), Some(5));
    inbox.apply(arrival(6, 21, 8, 6));
    assert_eq!(inbox.resyncs(), 1, "the channel goes on from there");
}

#[test]
fn an_unread_critical_one_raises_a_banner_until_acknowledged() {
    let mut inbox = inbox();
    inbox.apply(arrival_of(view(3, 12, Severity::Critical), 5, 3));
    let mut seen = view(4, 13, Severity::Critical);
    seen.read = true;
    inbox.apply(arrival_of(seen, 6, 3));
    inbox.apply(arrival_of(view(5, 14, Severity::Warning), 7, 4));
    assert_eq!(
        inbox.critical().iter().map(|n| n.id).collect::<Vec<_>>(),
        [3]
    );
    inbox.acknowledge(3);
    assert!(inbox.critical().is_empty());
}

#[test]
fn mark_all_read_lowers_the_count_to_exactly_what_the_server_says() {
    let mut inbox = inbox();
    inbox.apply(arrival_of(view(3, 12, Severity::Critical), 5, 3));
    inbox.apply(arrival(4, 13, 6, 4));
    inbox.apply(arrival_of(view(5, 14, Severity::Critical), 7, 5));

    // Everything up to position 13 read elsewhere; 5 arrived after the click.
    inbox.apply(read(&[], Some(13), 1));
    assert_eq!(inbox.unread(), Some(1));
    assert_eq!(
        shown(&inbox),
        [(5, false), (4, true), (3, true), (2, true), (1, true)]
    );
    assert_eq!(
        inbox.critical().iter().map(|n| n.id).collect::<Vec<_>>(),
        [5],
        "the banner of a read one goes, a newer one stays"
    );

    inbox.apply(read(&[], Some(14), 0));
    assert_eq!(inbox.unread(), Some(0));
    assert!(shown(&inbox).iter().all(|(_, read)| *read));
    assert!(inbox.critical().is_empty());
}

#[test]
fn the_count_is_the_servers_not_a_local_tally() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    inbox.apply(read(&[3], None, 7)); // read here, but 5 arrived for other tabs' channels
    assert_eq!(inbox.unread(), Some(7));
    assert_eq!(shown(&inbox)[0], (3, true));
    assert_eq!(shown(&inbox)[1], (2, false), "only the id named is read");
}

#[test]
fn removing_an_unread_entry_takes_it_out_everywhere() {
    let mut inbox = inbox();
    inbox.apply(arrival_of(view(3, 12, Severity::Critical), 5, 3));
    inbox.apply(arrival(4, 13, 6, 4));

    inbox.apply(removal(&[3, 1], 14, 7, 2));
    assert_eq!(inbox.unread(), Some(2));
    assert_eq!(shown(&inbox), [(4, false), (2, false)]);
    assert_eq!(toast_ids(&inbox), [4]);
    assert!(inbox.critical().is_empty());
    assert_eq!(inbox.resyncs(), 0);
}

#[test]
fn a_removal_is_taken_in_once_and_can_reveal_a_gap() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    inbox.apply(removal(&[3], 14, 6, 2));
    inbox.set_unread(9);
    inbox.apply(removal(&[3], 14, 6, 2));
    assert_eq!(
        inbox.unread(),
        Some(9),
        "a replayed removal changes nothing"
    );

    inbox.apply(removal(&[2], 20, 9, 1));
    assert_eq!(inbox.resyncs(), 1);
    assert_eq!(inbox.unread(), Some(1));
    assert_eq!(shown(&inbox), [(1, false)]);
}

#[test]
fn resync_asks_for_a_refetch_and_reset_keeps_the_stream_position() {
    let mut inbox = inbox();
    inbox.apply(arrival(3, 12, 5, 3));
    inbox.apply(Event::Resync);
    assert_eq!(inbox.resyncs(), 1);

    inbox.reset();
    assert_eq!(inbox.unread(), None, "the refetched page's count shows");
    assert_eq!(shown(&inbox), [(2, false), (1, false)]);
    assert_eq!(inbox.last_position(), 12);
    assert_eq!(inbox.apply(arrival(3, 12, 5, 3)), None, "still a replay");
    assert!(inbox.apply(arrival(4, 13, 6, 4)).is_some());
    assert_eq!(inbox.resyncs(), 1);
}

#[test]
fn state_and_progress_are_taken_as_they_come() {
    let mut inbox = inbox();
    inbox.apply(Event::State(Connection::Reconnecting));
    assert_eq!(inbox.connection(), Connection::Reconnecting);
    let p = ProgressEvent {
        task_id: "t".into(),
        progress: 40,
        status: "running".into(),
    };
    inbox.apply(Event::Progress(p.clone()));
    assert_eq!(inbox.progress(), Some(&p));
}

fn in_category(id: i64, position: i64, category: &str, severity: Severity) -> NotificationView {
    NotificationView {
        category: Some(category.into()),
        ..view(id, position, severity)
    }
}

fn counts(pairs: &[(&str, i64)]) -> crate::model::CategoryCounts {
    pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

#[test]
fn category_counts_follow_the_server_and_a_muted_category_raises_no_toast() {
    let mut inbox = inbox();
    inbox.know_preferences(crate::model::Preferences {
        muted: vec!["deploys".into()],
        desktop: vec![],
        escalation: None,
    });
    inbox.apply(Event::Connected {
        unread: Some(0),
        by_category: Some(counts(&[("billing", 1)])),
    });
    // A muted one is listed, counted in its tab, and announced nowhere.
    let mut muted = arrival_of(in_category(3, 11, "deploys", Severity::Info), 5, 0);
    if let Event::Notification(n) = &mut muted {
        n.unread_by_category = counts(&[("deploys", 1)]);
    }
    assert_eq!(inbox.apply(muted), None);
    assert!(inbox.toasts().is_empty());
    assert_eq!(
        inbox.by_category(),
        Some(&counts(&[("billing", 1), ("deploys", 1)]))
    );
    assert_eq!(inbox.overlay().merge(&[], 10).len(), 1);
    // A critical one in a muted category is announced all the same.
    let critical = arrival_of(in_category(4, 12, "deploys", Severity::Critical), 6, 1);
    assert!(inbox.apply(critical).is_some());
    assert_eq!(inbox.toasts().len(), 1);
    assert_eq!(inbox.critical().len(), 1);

    // Reading one category marks only its notifications read.
    let mut read = ReadEvent::up_to(12, 0);
    read.category = Some("deploys".into());
    read.unread_by_category = counts(&[("billing", 1)]);
    inbox.apply(Event::Read(read));
    assert_eq!(inbox.by_category(), Some(&counts(&[("billing", 1)])));
    assert!(inbox.critical().is_empty());
    let other = in_category(1, 9, "billing", Severity::Info);
    let list = inbox.overlay().merge(&[other], 10);
    let read_flags: Vec<(i64, bool)> = list.iter().map(|n| (n.id, n.read)).collect();
    assert_eq!(read_flags, [(4, true), (3, true), (1, false)]);

    // A removal moves its own category's count only.
    inbox.apply(Event::Removed(WithUnread {
        unread_by_category: counts(&[("billing", 0)]),
        event: RemovalEntry {
            ids: vec![1],
            position: 13,
            ch: Channel::All,
            off: 7,
        },
        unread: 0,
    }));
    assert_eq!(inbox.by_category(), Some(&counts(&[])));
}

#[test]
fn preferences_from_any_tab_replace_the_known_ones() {
    let mut inbox = inbox();
    inbox.know_preferences(crate::model::Preferences::default());
    inbox.apply(Event::Preferences(crate::model::PreferencesEvent {
        preferences: crate::model::Preferences {
            muted: vec!["deploys".into()],
            desktop: vec!["billing".into()],
            escalation: None,
        },
        unread_by_category: counts(&[("deploys", 2)]),
        unread: 0,
    }));
    assert_eq!(inbox.unread(), Some(0));
    // The page's (older) preferences do not undo the event's.
    inbox.know_preferences(crate::model::Preferences::default());
    assert_eq!(inbox.preferences().unwrap().muted, ["deploys"]);
    // Desktop alerts: chosen categories, uncategorised ones, critical ones.
    assert!(inbox.wants_desktop(&in_category(1, 1, "billing", Severity::Info)));
    assert!(!inbox.wants_desktop(&in_category(1, 1, "deploys", Severity::Info)));
    assert!(inbox.wants_desktop(&in_category(1, 1, "deploys", Severity::Critical)));
    assert!(inbox.wants_desktop(&view(1, 1, Severity::Info)));
}
