//! SSE wire encoding. Every frame is built here, from a validated event name,
//! an integer id and JSON data, so no input can start a new SSE field: the
//! name is checked against a strict alphabet and `serde_json` never writes a
//! raw CR or LF (it escapes them inside strings).

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::{sync::Arc, time::Duration};

// The event name's rule lives with the type, in the model: the one check
// that keeps a name from starting a new SSE field.
pub use crate::model::events::{BadEventName, EventName};

/// One encoded SSE event, shared (by reference count) by every stream it is
/// delivered to: a broadcast is serialized once per user, not once per tab.
/// One pointer wide, so a client's queue slot costs 8 bytes.
#[derive(Debug, Clone)]
pub struct Frame(Arc<FrameInner>);

#[derive(Debug)]
struct FrameInner {
    bytes: Bytes,
    /// The `id:` of a stored notification, used to drop live copies of what a
    /// resuming stream already replayed.
    position: Option<i64>,
    /// When it was built, for the publish-to-write latency metric.
    created: std::time::Instant,
}

impl Frame {
    pub fn new(name: &EventName, position: Option<i64>, data: &impl Serialize) -> Frame {
        Self::build(name, position, data, None)
    }

    /// The first frame of a stream also tells the browser how long to wait
    /// before reconnecting.
    pub fn with_retry(name: &EventName, data: &impl Serialize, retry: Duration) -> Frame {
        Self::build(name, None, data, Some(retry))
    }

    fn build(
        name: &EventName,
        position: Option<i64>,
        data: &impl Serialize,
        retry: Option<Duration>,
    ) -> Frame {
        // Serializing our own DTOs cannot fail (no maps with non-string keys);
        // an empty object keeps the stream well-formed if it ever did.
        let json = serde_json::to_vec(data).unwrap_or_else(|_| b"{}".to_vec());
        let mut buf = BytesMut::with_capacity(json.len() + name.as_str().len() + 48);
        if let Some(retry) = retry {
            buf.put_slice(format!("retry: {}\n", retry.as_millis()).as_bytes());
        }
        put_fields(&mut buf, name, position);
        buf.put_slice(&json);
        buf.put_slice(b"\n\n");
        Frame(Arc::new(FrameInner {
            bytes: buf.freeze(),
            position,
            created: std::time::Instant::now(),
        }))
    }

    pub fn position(&self) -> Option<i64> {
        self.0.position
    }

    /// How many hold this frame (queues, and whoever else kept a copy).
    pub(super) fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }

    pub fn age(&self) -> std::time::Duration {
        self.0.created.elapsed()
    }

    pub fn bytes(&self) -> Bytes {
        self.0.bytes.clone()
    }
}

/// `event:`, `id:` when stored, and the start of `data: `: what every frame
/// begins with (after `retry:` on the first). The name is checked at
/// parse time, so no field can smuggle a line break.
fn put_fields(buf: &mut BytesMut, name: &EventName, position: Option<i64>) {
    buf.put_slice(b"event: ");
    buf.put_slice(name.as_str().as_bytes());
    buf.put_u8(b'\n');
    if let Some(position) = position {
        buf.put_slice(format!("id: {position}\n").as_bytes());
    }
    buf.put_slice(b"data: ");
}

/// A frame whose data ends with its recipient's counts, the one part of a
/// notification that differs between users: the event is encoded once per
/// entry, and [`FrameTemplate::with_counts`] only appends the numbers (the
/// count of the entry's category, then the badge). The bytes are those
/// `Frame::new` would make of `model::WithUnread`.
#[derive(Debug, Clone)]
pub struct FrameTemplate {
    /// Everything up to the opening `{` of the data, or the `,` after its
    /// last field.
    head: Bytes,
    position: Option<i64>,
}

impl FrameTemplate {
    /// `data` must serialize to a JSON object.
    pub fn new(name: &EventName, position: Option<i64>, data: &impl Serialize) -> FrameTemplate {
        let json = serde_json::to_vec(data).unwrap_or_else(|_| b"{}".to_vec());
        let open = json.strip_suffix(b"}").unwrap_or(b"{");
        let mut buf = BytesMut::with_capacity(json.len() + name.as_str().len() + 48);
        put_fields(&mut buf, name, position);
        buf.put_slice(open);
        if open.len() > 1 {
            buf.put_u8(b',');
        }
        FrameTemplate {
            head: buf.freeze(),
            position,
        }
    }

    /// The badge only (an entry with no category).
    pub fn with_unread(&self, unread: i64) -> Frame {
        self.with_counts(unread, None)
    }

    /// The entry's category's count after it, when it has one, and the badge.
    pub fn with_counts(&self, unread: i64, category: Option<(&str, i64)>) -> Frame {
        let mut buf = BytesMut::with_capacity(self.head.len() + 64);
        buf.put_slice(&self.head);
        if let Some((slug, count)) = category {
            // Slugs are checked at the edge, but the key is still encoded
            // as JSON: the frame never depends on that check.
            let key = serde_json::to_string(slug).unwrap_or_else(|_| "\"\"".into());
            buf.put_slice(format!("\"unread_by_category\":{{{key}:{count}}},").as_bytes());
        }
        buf.put_slice(b"\"unread\":");
        buf.put_slice(unread.to_string().as_bytes());
        buf.put_slice(b"}\n\n");
        Frame(Arc::new(FrameInner {
            bytes: buf.freeze(),
            position: self.position,
            created: std::time::Instant::now(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Channel, NotificationEntry, NotificationView, PingEvent, RemovalEntry, Severity, WithUnread,
    };

    fn view(title: &str, body: &str) -> NotificationView {
        NotificationView {
            id: 7,
            position: 7,
            title: title.into(),
            body: body.into(),
            severity: Severity::Info,
            link: None,
            category: None,
            data: None,
            actions: Vec::new(),
            created_at: "2026-11-21T18:30:00Z".into(),
            read: false,
        }
    }

    #[test]
    fn newlines_in_data_cannot_start_a_field() {
        let f = Frame::new(
            &EventName::NOTIFICATION,
            Some(7),
            &view("hi\n\nevent: evil\r\ndata: x", "\r"),
        );
        let text = String::from_utf8(f.bytes().to_vec()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), 5, "{text:?}");
        assert_eq!(lines[0], "event: notification");
        assert_eq!(lines[1], "id: 7");
        assert!(lines[2].starts_with("data: {"));
        assert!(!text.contains('\r'));
        assert_eq!(&lines[3..], ["", ""]);
    }

    /// What a template appends is what `WithUnread<T>` (the browser's type
    /// for these events) would have written whole.
    #[test]
    fn a_template_makes_the_bytes_a_whole_encoding_would() {
        let entry = NotificationEntry {
            notification: view("hi\n", ""),
            ch: Channel::All,
            off: 3,
        };
        let template = FrameTemplate::new(&EventName::NOTIFICATION, Some(9), &entry);
        for unread in [0, 7, 12_345] {
            let whole = WithUnread::new(entry.clone(), unread);
            let expected = Frame::new(&EventName::NOTIFICATION, Some(9), &whole);
            assert_eq!(template.with_unread(unread).bytes(), expected.bytes());
            // With the entry's category's count, as the browser's type reads it.
            let mut whole = whole.clone();
            whole.unread_by_category.insert("deploys".into(), 3);
            let expected = Frame::new(&EventName::NOTIFICATION, Some(9), &whole);
            let with = template.with_counts(unread, Some(("deploys", 3)));
            assert_eq!(with.bytes(), expected.bytes());
        }
        let removal = RemovalEntry {
            ids: vec![4],
            position: 9,
            ch: Channel::User(2),
            off: 1,
        };
        let template = FrameTemplate::new(&EventName::NOTIFICATION_REMOVED, Some(9), &removal);
        let whole = WithUnread::new(removal, 5);
        let expected = Frame::new(&EventName::NOTIFICATION_REMOVED, Some(9), &whole);
        assert_eq!(template.with_unread(5).bytes(), expected.bytes());

        #[derive(Serialize)]
        struct Nothing {}
        let empty = FrameTemplate::new(&EventName::NOTIFICATION_READ, None, &Nothing {});
        assert_eq!(
            empty.with_unread(2).bytes(),
            &b"event: notification.read\ndata: {\"unread\":2}\n\n"[..]
        );
    }

    #[test]
    fn retry_comes_first() {
        let ping = PingEvent {
            timestamp: String::new(),
        };
        let f = Frame::with_retry(&EventName::CONNECTED, &ping, Duration::from_secs(3));
        assert!(f.bytes().starts_with(b"retry: 3000\nevent: connected\n"));
    }
}
