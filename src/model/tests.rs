//! The JSON API's bodies, pinned: each serialises to exactly the JSON the
//! SPEC and the README show (field names and nesting), and that JSON reads
//! back as the same value — the type the server writes with is the one a
//! client reads with. The stream's events are pinned, through the frames
//! the server really builds, in `server::delivery::wire`.

use std::fmt::Debug;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use super::{
    api::{
        BroadcastBody, EventData, ExportStarted, LoginBody, NotificationPage, SendToUserBody,
        SignedIn, TimingBody, UnreadCount,
    },
    AppError, Envelope, ErrorBody, NotificationView, Role, SentAnnouncement, Severity, StreamStats,
    UserView,
};

/// `value` is written as `wire`, and `wire` reads back as `value`.
fn pinned<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T, wire: Value) {
    assert_eq!(serde_json::to_value(&value).unwrap(), wire);
    assert_eq!(serde_json::from_value::<T>(wire).unwrap(), value);
}

fn alice() -> UserView {
    UserView {
        id: 2,
        username: "alice".into(),
        role: Role::User,
    }
}

#[test]
fn refusals_and_the_envelope() {
    // SPEC: errors are `{"success":false,"error":"<clear message>"}`.
    pinned(
        ErrorBody::new(AppError::Forbidden.to_string()),
        json!({"success": false, "error": "admins only"}),
    );
    // SPEC: `/api/sse/*` answer `{"success":true,"data":…}`.
    pinned(
        Envelope::ok(SentAnnouncement {
            id: 1,
            recipients: 3,
            scheduled: false,
        }),
        json!({"success": true, "data": {"id": 1, "recipients": 3, "scheduled": false}}),
    );
    pinned(
        Envelope::ok(StreamStats {
            total_clients: 2,
            user_clients: [("2".to_string(), 2)].into(),
        }),
        json!({"success": true, "data": {"total_clients": 2, "user_clients": {"2": 2}}}),
    );
    pinned(
        Envelope::ok(ExportStarted {
            task_id: "0123456789abcdef".into(),
        }),
        json!({"success": true, "data": {"task_id": "0123456789abcdef"}}),
    );
}

#[test]
fn the_users_own_routes_are_bare() {
    // SPEC: `{"token","user":{"id","username","role"}}`.
    pinned(
        SignedIn {
            token: "t".into(),
            user: alice(),
        },
        json!({"token": "t", "user": {"id": 2, "username": "alice", "role": "user"}}),
    );
    pinned(
        alice(),
        json!({"id": 2, "username": "alice", "role": "user"}),
    );
    let item = NotificationView {
        category: None,
        data: None,
        actions: Vec::new(),
        id: 5,
        position: 5,
        title: "Hi".into(),
        body: String::new(),
        severity: Severity::Critical,
        link: None,
        created_at: "2026-11-21T18:30:00Z".into(),
        read: true,
    };
    pinned(
        NotificationPage {
            unread_by_category: Default::default(),
            items: vec![item],
            unread: 1,
            next_before: Some(5),
        },
        json!({
            "items": [{"id": 5, "seq": 5, "title": "Hi", "body": "", "severity": "critical",
                       "created_at": "2026-11-21T18:30:00Z", "read": true}],
            "unread": 1,
            "next_before": 5
        }),
    );
    // The last page says so with `null`, not by leaving the field out.
    pinned(
        NotificationPage {
            unread_by_category: Default::default(),
            items: vec![],
            unread: 0,
            next_before: None,
        },
        json!({"items": [], "unread": 0, "next_before": null}),
    );
    pinned(UnreadCount { unread: 0 }, json!({"unread": 0}));
}

#[test]
fn request_bodies() {
    pinned(
        LoginBody {
            username: "admin".into(),
            password: "herald-demo".into(),
        },
        json!({"username": "admin", "password": "herald-demo"}),
    );
    // The README's broadcast, and its schedule fields at the top level.
    let data = EventData {
        category: None,
        data: None,
        actions: Vec::new(),
        title: "Maintenance at 22:00".into(),
        body: "Ten minutes.".into(),
        severity: Some("warning".into()),
        link: Some("/status".into()),
    };
    let broadcast = BroadcastBody {
        event: Some("notification".into()),
        role: None,
        data: data.clone(),
        timing: TimingBody {
            send_at: Some("2026-11-21T22:00:00Z".into()),
            expires_at: None,
        },
    };
    let wire = json!({
        "event": "notification", "role": null,
        "data": {"title": "Maintenance at 22:00", "body": "Ten minutes.",
                 "severity": "warning", "link": "/status"},
        "send_at": "2026-11-21T22:00:00Z", "expires_at": null
    });
    assert_eq!(serde_json::to_value(&broadcast).unwrap(), wire);
    // Its text, order included, is what an `Idempotency-Key` digests: a
    // change here would make every kept key's retry a 422.
    assert_eq!(
        serde_json::to_string(&broadcast).unwrap(),
        r#"{"event":"notification","role":null,"data":{"title":"Maintenance at 22:00","body":"Ten minutes.","severity":"warning","link":"/status"},"send_at":"2026-11-21T22:00:00Z","expires_at":null}"#
    );
    let read: BroadcastBody = serde_json::from_value(wire).unwrap();
    assert_eq!(read.data.title, broadcast.data.title);
    assert_eq!(read.timing.send_at, broadcast.timing.send_at);
    // What a client may leave out.
    let minimal: SendToUserBody =
        serde_json::from_value(json!({"user_id": 2, "data": {"title": "Hi alice"}})).unwrap();
    assert_eq!(minimal.user_id, Some(2));
    assert_eq!(minimal.data.body, "");
    assert!(minimal.event.is_none() && minimal.timing.send_at.is_none());
    // `username` (added later) is left out of the digest when absent, so a
    // key kept for a request by id still matches its retry.
    assert_eq!(
        serde_json::to_string(&minimal).unwrap(),
        r#"{"user_id":2,"event":null,"data":{"title":"Hi alice","body":"","severity":null,"link":null},"send_at":null,"expires_at":null}"#
    );
    let by_name: SendToUserBody =
        serde_json::from_value(json!({"username": "alice", "data": {"title": "Hi"}})).unwrap();
    assert_eq!(
        (by_name.user_id, by_name.username.as_deref()),
        (None, Some("alice"))
    );
}

#[test]
fn secrets_stay_out_of_debug() {
    let login = LoginBody {
        username: "admin".into(),
        password: "herald-demo".into(),
    };
    let signed_in = SignedIn {
        token: "eyJ.secret".into(),
        user: alice(),
    };
    assert!(!format!("{login:?}").contains("herald-demo"));
    assert!(!format!("{signed_in:?}").contains("secret"));
    let created = crate::model::CreatedKey {
        key: "hrld_0123456789ab_secretsecret".into(),
        view: crate::model::KeyView {
            name: "ci".into(),
            scopes: vec![crate::model::Scope::Read],
            prefix: "hrld_0123456789ab".into(),
            created_by: "cli".into(),
            created_at: String::new(),
            last_used_at: None,
            revoked_at: None,
        },
    };
    assert!(!format!("{created:?}").contains("secretsecret"));
    let new_user: crate::model::service::NewUserBody = serde_json::from_value(
        json!({"username": "erin", "role": "user", "password": "hunter2-hunter2"}),
    )
    .unwrap();
    assert!(!format!("{new_user:?}").contains("hunter2"));
}
