//! The API document and the event schemas, against the real router and a
//! real stream: every route under /api (and the stream) is in the document
//! and nothing else is; the served documents are the generated ones; real
//! frames of every kind the stream sends pass the served schemas, checked
//! by a validator written by others (the `jsonschema` crate).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{SseEvent, SseReader, TestServer};

/// (METHOD, path) of every route the router holds, read from its `Debug`
/// output (axum lists each route's path and its `Allow` methods there; it
/// has no other way to list them). HEAD rides along with GET. Only the
/// path router: the fallback router that follows numbers its own routes
/// from 1 again.
fn registered_routes(router_debug: &str) -> BTreeSet<(String, String)> {
    let (path_router, _fallback) = router_debug
        .split_once("fallback_router")
        .expect("axum's Router debug names its fallback router");
    let mut paths = BTreeMap::new();
    let mut methods = BTreeMap::new();
    for piece in path_router.split("RouteId(").skip(1) {
        let Some((id, rest)) = piece.split_once("): ") else {
            continue;
        };
        if let Some(quoted) = rest.strip_prefix('"') {
            let path = &quoted[..quoted.find('"').expect("a closing quote")];
            paths.insert(id.to_string(), path.to_string());
        } else if rest.starts_with("MethodRouter(") {
            let allowed = rest
                .split_once("allow_header: Bytes(b\"")
                .and_then(|(_, tail)| tail.split_once('"'))
                .map_or("*", |(allowed, _)| allowed);
            methods.insert(id.to_string(), allowed.to_string());
        }
    }
    let mut routes = BTreeSet::new();
    for (id, path) in paths {
        let allowed = methods.get(&id).map_or("?", String::as_str);
        for method in allowed.split(',').filter(|m| *m != "HEAD") {
            routes.insert((method.to_string(), path.clone()));
        }
    }
    routes
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

async fn fetch_json(server: &TestServer, path: &str) -> Value {
    let res = server.http.get(server.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}, asked by anyone");
    assert_eq!(res.headers()["content-type"], "application/json", "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn every_api_route_is_in_the_document_and_nothing_else_is() {
    let server = TestServer::start().await;
    let router = herald::server::router(server.state.clone());
    // Server functions (the pages' forms, under /api/ too) are the UI's
    // doors, not the API: leptos lists them.
    let server_fns: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    let routed: BTreeSet<(String, String)> = registered_routes(&format!("{router:?}"))
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/") || path.starts_with("/sse/"))
        .filter(|(_, path)| !server_fns.contains(path))
        .collect();
    // The walk itself works (a change in axum's Debug output fails here,
    // not silently).
    for known in [
        ("POST", "/api/auth/login"),
        ("PATCH", "/api/users/{username}"),
        ("GET", "/sse/stream"),
    ] {
        assert!(
            routed.contains(&(known.0.to_string(), known.1.to_string())),
            "the router walk finds {known:?}: {routed:?}"
        );
    }
    assert!(!server_fns.is_empty(), "server functions are registered");

    let doc = fetch_json(&server, "/api/openapi.json").await;
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the API document (register them with routes!(…) in \
         src/server/http/mod.rs, with a #[utoipa::path] on the handler): {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[tokio::test]
async fn the_served_documents_are_the_generated_ones_and_the_page_lists_them() {
    let server = TestServer::start().await;
    let doc = fetch_json(&server, "/api/openapi.json").await;
    assert_eq!(
        doc,
        serde_json::to_value(herald::server::http::api_document()).unwrap()
    );
    let schemas = fetch_json(&server, "/api/event-schemas.json").await;
    assert_eq!(
        schemas,
        herald::server::http::openapi::events::event_schemas()
    );

    let res = server
        .http
        .get(server.url("/api/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script"), "no script, nothing fetched");
    for (method, path) in documented_routes(&doc) {
        let heading = format!(
            "<span class=\"method\">{}</span> <code>{path}</code>",
            method.to_lowercase()
        );
        assert!(page.contains(&heading), "the page lists {method} {path}");
    }
    assert!(page.contains("href=\"/api/openapi.json\""));
    assert!(page.contains("href=\"/api/event-schemas.json\""));
}

/// Checks every frame it reads against the served schema of its event
/// (`*` for a custom name), and remembers which kinds it saw.
struct Checked {
    validators: BTreeMap<String, jsonschema::Validator>,
    seen: BTreeSet<String>,
}

impl Checked {
    fn new(schemas: &Value) -> Checked {
        let validators = schemas
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, schema)| {
                let validator = jsonschema::validator_for(schema)
                    .unwrap_or_else(|e| panic!("the schema of {name} compiles: {e}"));
                (name.clone(), validator)
            })
            .collect();
        Checked {
            validators,
            seen: BTreeSet::new(),
        }
    }

    fn check(&mut self, event: &SseEvent) {
        let key = if self.validators.contains_key(&event.event) {
            event.event.clone()
        } else {
            "*".to_string()
        };
        let data = event.json();
        let errors: Vec<String> = self.validators[&key]
            .iter_errors(&data)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "a real `{}` frame fails its schema ({key}): {errors:?}\n{data}",
            event.event
        );
        self.seen.insert(key);
    }

    /// Reads (and checks) frames until one named `event`.
    async fn until(&mut self, stream: &mut SseReader, event: &str) -> SseEvent {
        loop {
            let next = stream.next_event().await.expect("the stream goes on");
            self.check(&next);
            if next.event == event {
                return next;
            }
        }
    }
}

#[tokio::test]
async fn real_frames_of_every_kind_pass_the_served_event_schemas() {
    let server =
        TestServer::start_with(&[("HERALD_PING_SECS", "1"), ("HERALD_EXPORT_STEP_MS", "10")]).await;
    let schemas = fetch_json(&server, "/api/event-schemas.json").await;
    let mut checked = Checked::new(&schemas);
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;

    // As a page opens it: told of custom event names (`event.names`).
    let (mut stream, connected) = server.open_stream(&alice, "?page=1").await;
    checked.check(&connected);

    let (mut admin_stream, _) = server.open_stream(&admin, "?page=1").await;
    let sent = server.broadcast(&admin, "hello").await;
    checked.until(&mut admin_stream, "console.changed").await;
    let announcement = sent["data"]["id"].as_i64().unwrap();
    let first = checked.until(&mut stream, "notification").await.json();

    let res = server
        .post_json(
            "/api/sse/broadcast",
            &admin,
            &json!({ "event": "deploy.done", "data": { "title": "deployed", "severity": "critical", "link": "/status" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let custom = checked.until(&mut stream, "deploy.done").await.json();

    // notification.read in each of its three shapes: by ids, archived, up to a position.
    let read = server
        .post_json(
            &format!("/api/notifications/{}/read", first["id"]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let by_ids = checked.until(&mut stream, "notification.read").await.json();
    assert!(by_ids["ids"].is_array(), "{by_ids}");
    let archived = server
        .post_json(
            &format!("/api/notifications/{}/archive", custom["id"]),
            &alice,
            &json!({}),
        )
        .await;
    assert_eq!(archived.status(), StatusCode::OK);
    let archived = checked.until(&mut stream, "notification.read").await.json();
    assert_eq!(archived["archived"], true, "{archived}");
    server.broadcast(&admin, "one more").await;
    checked.until(&mut stream, "notification").await;
    let all = server
        .post_json("/api/notifications/read-all", &alice, &json!({}))
        .await;
    assert_eq!(all.status(), StatusCode::OK);
    let up_to = checked.until(&mut stream, "notification.read").await.json();
    assert!(up_to["up_to_seq"].is_i64(), "{up_to}");

    let saved = server
        .put_json(
            "/api/preferences",
            &alice,
            &json!({ "muted": [], "desktop": [] }),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    checked.until(&mut stream, "preferences").await;

    let retracted = server
        .delete(&format!("/api/announcements/{announcement}"), &admin)
        .await;
    assert_eq!(retracted.status(), StatusCode::NO_CONTENT);
    checked.until(&mut stream, "notification.removed").await;

    let export = server.post_json("/api/exports", &alice, &json!({})).await;
    assert_eq!(export.status(), StatusCode::ACCEPTED);
    checked.until(&mut stream, "progress").await;
    checked.until(&mut stream, "ping").await;

    // A position beyond the log: the server cannot replay, it says resync.
    let (mut resumed, connected) = server
        .open_stream(&alice, "?page=1&last_event_id=999999999")
        .await;
    assert_eq!(connected.json()["events"], json!(["deploy.done"]));
    checked.check(&connected);
    checked.until(&mut resumed, "resync").await;

    let every_kind: BTreeSet<String> = checked.validators.keys().cloned().collect();
    assert_eq!(
        checked.seen, every_kind,
        "a real frame of every kind the schemas describe"
    );
}
