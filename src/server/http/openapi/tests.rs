//! The document says, for every operation, what it answers and who may
//! call it; the event schemas are valid JSON Schema that accept the frames
//! the server writes and refuse others. (That every route is in the
//! document, and that real frames pass, is `tests/integration/api_doc.rs`.)

use serde_json::{json, Value};

use super::{events, API_KEY_SCHEME, SESSION_BEARER_SCHEME, SESSION_COOKIE_SCHEME};
use crate::{
    model::{
        Channel, NotificationEntry, NotificationEvent, NotificationView, ReadEvent, Severity,
        WithUnread,
    },
    server::http::api_document,
};

fn document() -> Value {
    serde_json::to_value(api_document()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                all.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    all
}

fn statuses(op: &Value) -> Vec<u16> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(|status| status.parse().unwrap())
        .collect()
}

/// `security: [{}]`: anyone may call it.
fn is_public(op: &Value) -> bool {
    op["security"]
        .as_array()
        .is_some_and(|alternatives| alternatives.iter().any(|a| a == &json!({})))
}

#[test]
fn it_is_openapi_3_1_with_the_three_ways_in() {
    let doc = document();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes[SESSION_COOKIE_SCHEME]["type"], "apiKey");
    assert_eq!(schemes[SESSION_COOKIE_SCHEME]["in"], "cookie");
    assert_eq!(schemes[SESSION_COOKIE_SCHEME]["name"], "herald_session");
    assert_eq!(schemes[SESSION_BEARER_SCHEME]["scheme"], "bearer");
    assert_eq!(schemes[API_KEY_SCHEME]["scheme"], "bearer");
    let key = schemes[API_KEY_SCHEME]["description"].as_str().unwrap();
    for scope in crate::model::Scope::ALL {
        assert!(
            key.contains(&format!("`{scope}`")),
            "scope {scope} in {key}"
        );
    }
}

#[test]
fn every_operation_says_who_may_call_it_and_how_it_refuses() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{} operations", ops.len());
    for (method, path, op) in ops {
        let what = format!("{method} {path}");
        let statuses = statuses(&op);
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{what}: a success"
        );
        // Every refusal is an ErrorBody.
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{what} {status}"
                );
            }
        }
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: security"));
        for requirement in security {
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(
                    schemes.contains_key(scheme),
                    "{what}: unknown scheme {scheme}"
                );
            }
        }
        if !is_public(&op) {
            assert!(statuses.contains(&401), "{what}: 401");
            assert!(statuses.contains(&503), "{what}: 503");
        }
        // A key-callable route names the scopes it needs (all of them: the
        // webhook routes need two); a session-only one names no key.
        let key_scopes: Vec<&Value> = security
            .iter()
            .filter_map(|r| r.get(API_KEY_SCHEME))
            .collect();
        for scopes in &key_scopes {
            let scopes = scopes.as_array().unwrap();
            assert!(!scopes.is_empty(), "{what}: its scopes");
            for scope in scopes {
                assert!(
                    crate::model::Scope::ALL
                        .iter()
                        .any(|s| s.to_string() == scope.as_str().unwrap()),
                    "{what}: {scope} is a scope"
                );
            }
        }
        if !key_scopes.is_empty() {
            assert!(statuses.contains(&403), "{what}: 403 outside the scope");
        }
        // Cookie-authenticated state changes can be refused as cross-site.
        if method != "GET" {
            assert!(statuses.contains(&403), "{what}: 403 cross-site");
        }
        if op["requestBody"]["content"]["application/json"].is_object() {
            for status in [400, 413, 415] {
                assert!(
                    statuses.contains(&status),
                    "{what}: {status} for a JSON body"
                );
            }
        }
        let takes_idempotency_key = op["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
        if takes_idempotency_key {
            assert!(statuses.contains(&422), "{what}: 422 for a reused key");
        }
    }
}

#[test]
fn the_service_routes_name_their_scopes() {
    let doc = document();
    let scope = |method: &str, path: &str| {
        let op = &doc["paths"][path][method];
        op["security"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|r| r.get(API_KEY_SCHEME))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(scope("post", "/api/sse/broadcast"), json!(["publish"]));
    assert_eq!(scope("post", "/api/sse/send-to-user"), json!(["publish"]));
    assert_eq!(
        scope("delete", "/api/announcements/{id}"),
        json!(["publish"])
    );
    assert_eq!(scope("get", "/api/sse/stats"), json!(["read"]));
    assert_eq!(scope("get", "/api/announcements"), json!(["read"]));
    assert_eq!(scope("get", "/api/audit"), json!(["read"]));
    for method in ["get", "patch", "delete"] {
        assert_eq!(scope(method, "/api/users/{username}"), json!(["users"]));
    }
    assert_eq!(scope("post", "/api/users"), json!(["users"]));
    // A key is never a session.
    assert_eq!(scope("get", "/api/me"), Value::Null);
    assert_eq!(scope("get", "/api/notifications"), Value::Null);
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{target} resolves");
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match inner {
                    Value::String(target) if key == "$ref" => out.push(target.clone()),
                    _ => collect_refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn validator(event: &str) -> jsonschema::Validator {
    let schemas = events::event_schemas();
    let schema = &schemas[event];
    assert!(schema.is_object(), "a schema for {event}");
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{event}: {e}"))
}

fn notification(unread: i64) -> NotificationEvent {
    WithUnread {
        unread_by_category: Default::default(),
        event: NotificationEntry {
            notification: NotificationView {
                category: None,
                data: None,
                actions: Vec::new(),
                id: 7,
                position: 7,
                title: "t".into(),
                body: String::new(),
                severity: Severity::Warning,
                link: None,
                created_at: "2026-12-03T18:00:00Z".into(),
                read: false,
            },
            ch: Channel::All,
            off: 3,
        },
        unread,
    }
}

#[test]
fn the_event_schemas_are_versioned_and_self_contained() {
    let schemas = events::event_schemas();
    for (name, schema) in schemas.as_object().unwrap() {
        let id = schema["$id"].as_str().unwrap();
        assert!(id.contains(&format!(":v{}:", events::VERSION)), "{id}");
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for target in refs {
            let pointer = target.strip_prefix('#').unwrap();
            assert!(
                pointer.starts_with("/$defs/") && schema.pointer(pointer).is_some(),
                "{name}: {target}"
            );
        }
        validator(name);
    }
}

#[test]
fn the_event_schemas_take_what_the_server_writes_and_nothing_else() {
    let notification_schema = validator("notification");
    let written = serde_json::to_value(notification(2)).unwrap();
    assert!(notification_schema.is_valid(&written), "{written}");
    assert!(validator(events::CUSTOM_EVENTS).is_valid(&written));
    for broken in [
        // The recipient's count is what the bell shows.
        without(&written, "unread"),
        without(&written, "seq"),
        with(&written, "severity", json!("loud")),
        with(&written, "ch", json!("everyone")),
        with(&written, "id", json!("7")),
    ] {
        assert!(!notification_schema.is_valid(&broken), "{broken}");
    }

    let read = validator("notification.read");
    for written in [
        ReadEvent::ids(vec![1, 2], 0),
        ReadEvent::up_to(9, 0),
        ReadEvent::archived(vec![3], 1),
    ] {
        let written = serde_json::to_value(written).unwrap();
        assert!(read.is_valid(&written), "{written}");
        assert!(!read.is_valid(&without(&written, "unread")), "{written}");
    }

    let progress = validator("progress");
    let written = json!({ "task_id": "x", "progress": 100, "status": "done" });
    assert!(progress.is_valid(&written));
    assert!(!progress.is_valid(&with(&written, "progress", json!(101))));
}

fn without(value: &Value, field: &str) -> Value {
    let mut value = value.clone();
    value.as_object_mut().unwrap().remove(field);
    value
}

fn with(value: &Value, field: &str, new: Value) -> Value {
    let mut value = value.clone();
    value[field] = new;
    value
}
