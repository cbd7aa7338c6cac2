//! The stream's contract, event by event, through the builders the server
//! uses: each frame's `data:` reads back as the model type the browser
//! parses it with (a round trip), and its field names are pinned to the
//! SPEC ("The stream") and the README's table, so that a rename in the
//! model — which a round trip alone would never notice, both ends moving
//! together — breaks a test before it breaks an outside client.

use std::{fmt, time::Duration};

use serde::{
    de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor},
    Deserialize, Deserializer,
};

use super::*;
use crate::model::{
    Channel, NotificationEvent, NotificationView, RemovedEvent, Role, Severity, UserProgress,
    WithUnread,
};

/// One frame taken apart: its `event:`, its `id:` and its `data:`.
struct Parsed {
    name: String,
    id: Option<i64>,
    data: String,
}

fn parse(frame: &Frame) -> Parsed {
    let text = String::from_utf8(frame.bytes().to_vec()).unwrap();
    let body = text
        .strip_suffix("\n\n")
        .expect("a frame ends with a blank line");
    let (mut name, mut id, mut data) = (None, None, None);
    for line in body.lines() {
        let (field, value) = line.split_once(": ").expect("field: value");
        match field {
            "event" => name = Some(value.to_string()),
            "id" => id = Some(value.parse().unwrap()),
            "data" => data = Some(value.to_string()),
            "retry" => {}
            other => panic!("unexpected field {other:?}"),
        }
    }
    Parsed {
        name: name.expect("event:"),
        id,
        data: data.expect("data:"),
    }
}

impl Parsed {
    /// The data read as the browser reads it.
    fn read<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{}: {e}", self.data))
    }

    /// The data's field names, in the order they were written.
    fn fields(&self) -> Vec<String> {
        serde_json::from_str::<Keys>(&self.data).unwrap().0
    }
}

/// The keys of a JSON object, in order (serde_json's `Value` sorts them).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

fn view(link: Option<&str>) -> NotificationView {
    NotificationView {
        category: None,
        data: None,
        actions: Vec::new(),
        id: 41,
        position: 41,
        title: "Maintenance at 22:00".into(),
        body: "Ten minutes.\nAt most.".into(),
        severity: Severity::Warning,
        link: link.map(str::to_string),
        created_at: "2026-11-21T18:30:00.5Z".into(),
        read: false,
    }
}

fn published(event: EventName, link: Option<&str>) -> Published {
    Published {
        announcement_id: 3,
        event,
        entry: Entry {
            position: 41,
            channel: Channel::Role(Role::Admin),
            offset: 6,
        },
        notification: view(link),
        recipients: 2,
    }
}

fn names(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

#[test]
fn connected() {
    let counts = crate::server::store::notifications::Counts {
        unread: 4,
        by_category: Default::default(),
    };
    let frame = super::connected(9, 2, &counts, Vec::new(), Duration::from_secs(3));
    assert!(frame.bytes().starts_with(b"retry: 3000\n"));
    let parsed = parse(&frame);
    assert_eq!((parsed.name.as_str(), parsed.id), ("connected", None));
    let data: ConnectedEvent = parsed.read();
    assert_eq!((data.client_id, data.user_id, data.unread), (9, 2, 4));
    assert!(time_is_rfc3339(&data.timestamp));
    // SPEC: `{"client_id","user_id","unread","timestamp"}`.
    assert_eq!(
        parsed.fields(),
        names(&["client_id", "user_id", "unread", "timestamp"])
    );
}

#[test]
fn ping() {
    let parsed = parse(&super::ping());
    assert_eq!((parsed.name.as_str(), parsed.id), ("ping", None));
    assert!(time_is_rfc3339(&parsed.read::<PingEvent>().timestamp));
    // SPEC: `{"timestamp"}`.
    assert_eq!(parsed.fields(), names(&["timestamp"]));
}

#[test]
fn resync() {
    let parsed = parse(&super::resync("too far behind to replay"));
    assert_eq!((parsed.name.as_str(), parsed.id), ("resync", None));
    let data: ResyncEvent = parsed.read();
    assert_eq!(data.reason, "too far behind to replay");
    assert!(time_is_rfc3339(&data.timestamp));
    // README: `{"reason","timestamp"}` (the SPEC names the event only).
    assert_eq!(parsed.fields(), names(&["reason", "timestamp"]));
}

#[test]
fn notification() {
    for (event, link) in [
        (EventName::NOTIFICATION, Some("/status")),
        (EventName::parse("deploy.done").unwrap(), None),
    ] {
        let name = event.to_string();
        let frame = super::notification(&published(event, link)).with_unread(7);
        let parsed = parse(&frame);
        // `id:` is the log position.
        assert_eq!((parsed.name.clone(), parsed.id), (name, Some(41)));
        let expected = WithUnread {
            unread_by_category: Default::default(),
            event: NotificationEntry {
                notification: view(link),
                ch: Channel::Role(Role::Admin),
                off: 6,
            },
            unread: 7,
        };
        assert_eq!(parsed.read::<NotificationEvent>(), expected);
        // SPEC: `{"id","title","body","severity","link"?,"created_at","unread"}`;
        // the README's table adds `seq`, `read`, `ch` and `off`. `unread`
        // comes last: the template appends it.
        let mut fields = vec!["id", "seq", "title", "body", "severity"];
        fields.extend(link.map(|_| "link"));
        fields.extend(["created_at", "read", "ch", "off", "unread"]);
        assert_eq!(parsed.fields(), names(&fields));
        assert!(parsed.data.contains(r#""severity":"warning""#));
        assert!(parsed.data.contains(r#""ch":"role:admin""#));
    }
}

#[test]
fn notification_removed() {
    let entry = Entry {
        position: 50,
        channel: Channel::User(2),
        offset: 3,
    };
    let parsed = parse(&removal(&entry, 41).with_unread(1));
    assert_eq!(
        (parsed.name.as_str(), parsed.id),
        ("notification.removed", Some(50))
    );
    let expected = WithUnread {
        unread_by_category: Default::default(),
        event: RemovalEntry {
            ids: vec![41],
            position: 50,
            ch: Channel::User(2),
            off: 3,
        },
        unread: 1,
    };
    assert_eq!(parsed.read::<RemovedEvent>(), expected);
    // README: `{"ids":[…],"seq","ch","off","unread"}`.
    assert_eq!(
        parsed.fields(),
        names(&["ids", "seq", "ch", "off", "unread"])
    );
}

#[test]
fn notification_read() {
    // SPEC: `{"ids":[..] | "up_to_seq", "unread"}`; the README adds
    // `"archived":true` for what left the inbox.
    for (event, fields) in [
        (ReadEvent::ids(vec![4, 5], 3), vec!["ids", "unread"]),
        (ReadEvent::up_to(41, 0), vec!["up_to_seq", "unread"]),
        (
            ReadEvent::archived(vec![4], 2),
            vec!["ids", "archived", "unread"],
        ),
    ] {
        let parsed = parse(&read(&event));
        assert_eq!(
            (parsed.name.as_str(), parsed.id),
            ("notification.read", None)
        );
        assert_eq!(parsed.read::<ReadEvent>(), event);
        assert_eq!(parsed.fields(), names(&fields));
    }
}

#[test]
fn progress() {
    let event = ProgressEvent {
        task_id: "0123456789abcdef".into(),
        progress: 150,
        status: "writing".into(),
    };
    let parsed = parse(&super::progress(&event));
    assert_eq!((parsed.name.as_str(), parsed.id), ("progress", None));
    // At most 100, as the SPEC says.
    let expected = ProgressEvent {
        progress: 100,
        ..event
    };
    assert_eq!(parsed.read::<ProgressEvent>(), expected);
    // SPEC: `{"task_id","progress":0..100,"status"}`.
    assert_eq!(parsed.fields(), names(&["task_id", "progress", "status"]));
}

/// The `herald_progress` `pg_notify` payload: written by the publisher of
/// one instance, read by the follower of every instance.
#[test]
fn the_progress_note_between_instances() {
    let note = UserProgress {
        user_id: 2,
        progress: ProgressEvent {
            task_id: "t".into(),
            progress: 40,
            status: "reading".into(),
        },
    };
    let payload = serde_json::to_string(&note).unwrap();
    assert_eq!(
        serde_json::from_str::<UserProgress>(&payload).unwrap(),
        note
    );
    let fields = serde_json::from_str::<Keys>(&payload).unwrap().0;
    assert_eq!(fields, names(&["user_id", "task_id", "progress", "status"]));
}

/// A read stored as a PostgreSQL control entry before reads were written
/// compactly (every field present) still reads back.
#[test]
fn an_older_control_entry_still_reads() {
    let old = r#"{"ids":[],"up_to_seq":41,"archived":false,"unread":0}"#;
    assert_eq!(
        serde_json::from_str::<ReadEvent>(old).unwrap(),
        ReadEvent::up_to(41, 0)
    );
}

fn time_is_rfc3339(t: &str) -> bool {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
}
