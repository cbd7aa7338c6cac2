//! `GET /api/event-schemas.json`: a JSON Schema (2020-12) for the `data:`
//! of each event the stream sends, made from the very types the server
//! writes them with (`crate::model::events`, through `server::delivery::wire`)
//! and the browser reads them with. Each schema stands alone: the types it
//! refers to are in its own `$defs`.
//!
//! Bump [`VERSION`] when an event's shape changes in a way a reader would
//! notice (a field removed, renamed or retyped; a new required one).

use serde_json::{json, Map, Value};
use utoipa::{
    openapi::{RefOr, Schema},
    ToSchema,
};

use crate::model::{
    ConnectedEvent, ConsoleChangedEvent, EventName, EventNamesEvent, NotificationEntry,
    NotificationEvent, PingEvent, PreferencesEvent, ProgressEvent, ReadEvent, RemovalEntry,
    RemovedEvent, ResyncEvent,
};

pub const VERSION: u32 = 1;

/// The key of the schema shared by every custom event name an admin sends
/// (`*` is no event name, so it cannot clash with one).
pub const CUSTOM_EVENTS: &str = "*";

/// `{"<event name>": <schema>, …, "*": <schema>}`, as the SPEC writes it:
/// every value is a schema (a reader may compile each one), and the
/// version is in each schema's `$id`.
pub fn event_schemas() -> Value {
    let mut all = Map::new();
    let mut add = |name: &str, schema: Value| {
        all.insert(name.to_string(), schema);
    };
    add(
        EventName::CONNECTED.as_str(),
        standalone::<ConnectedEvent>(
            EventName::CONNECTED.as_str(),
            "First on every stream.",
            Vec::new(),
        ),
    );
    add(
        EventName::PING.as_str(),
        standalone::<PingEvent>(EventName::PING.as_str(), "The keep-alive.", Vec::new()),
    );
    add(
        EventName::NOTIFICATION.as_str(),
        standalone::<NotificationEvent>(
            EventName::NOTIFICATION.as_str(),
            "A new notification, with the recipient's unread count; its `id:` is `seq`.",
            argument::<NotificationEntry>(),
        ),
    );
    add(
        EventName::NOTIFICATION_READ.as_str(),
        standalone::<ReadEvent>(
            EventName::NOTIFICATION_READ.as_str(),
            "Notifications read (by `ids`, or everything up to `up_to_seq`), maybe archived, \
             on another tab or device.",
            Vec::new(),
        ),
    );
    add(
        EventName::NOTIFICATION_REMOVED.as_str(),
        standalone::<RemovedEvent>(
            EventName::NOTIFICATION_REMOVED.as_str(),
            "Notifications retracted or expired: drop them; its `id:` is `seq`.",
            argument::<RemovalEntry>(),
        ),
    );
    add(
        EventName::PROGRESS.as_str(),
        standalone::<ProgressEvent>(
            EventName::PROGRESS.as_str(),
            "A long-running task's progress.",
            Vec::new(),
        ),
    );
    add(
        EventName::PREFERENCES.as_str(),
        standalone::<PreferencesEvent>(
            EventName::PREFERENCES.as_str(),
            "The user saved their preferences (in some tab): take them, and the counts under them.",
            Vec::new(),
        ),
    );
    add(
        EventName::RESYNC.as_str(),
        standalone::<ResyncEvent>(
            EventName::RESYNC.as_str(),
            "This client missed events: refetch the inbox.",
            Vec::new(),
        ),
    );
    add(
        EventName::CONSOLE_CHANGED.as_str(),
        standalone::<ConsoleChangedEvent>(
            EventName::CONSOLE_CHANGED.as_str(),
            "Admins only, at most once a second: the console's history, funnel or \
             online numbers changed; refetch them.",
            Vec::new(),
        ),
    );
    add(
        EventName::EVENT_NAMES.as_str(),
        standalone::<EventNamesEvent>(
            EventName::EVENT_NAMES.as_str(),
            "A custom event name the next notification arrives under: listen to it. \
             Sent once per name; `connected` lists the names known before.",
            Vec::new(),
        ),
    );
    add(
        CUSTOM_EVENTS,
        standalone::<NotificationEvent>(
            "custom",
            "Any other event name (an admin's custom one): the `notification` shape.",
            argument::<NotificationEntry>(),
        ),
    );
    Value::Object(all)
}

type Named = Vec<(String, RefOr<Schema>)>;

/// A generic type's argument, for its `$defs`: utoipa lists the schemas a
/// type refers to, but not the argument a generic one was given.
fn argument<A: ToSchema>() -> Named {
    let mut named = vec![(A::name().into_owned(), A::schema())];
    A::schemas(&mut named);
    named
}

/// `T`'s schema as a JSON Schema document of its own: `$schema`, a
/// versioned `$id`, and the schemas it refers to under `$defs` (utoipa
/// writes references for an OpenAPI document, `#/components/schemas/…`);
/// `arguments`: those of a generic `T` ([`argument`]).
fn standalone<T: ToSchema>(name: &str, description: &str, arguments: Named) -> Value {
    let mut referred = arguments;
    T::schemas(&mut referred);
    let mut defs = Map::new();
    for (def_name, schema) in referred {
        defs.insert(def_name, to_json(schema));
    }
    let mut schema = to_json(T::schema());
    let root = schema.as_object_mut().expect("a schema is an object");
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert(
        "$id".into(),
        json!(format!("urn:herald:event-schema:v{VERSION}:{name}")),
    );
    root.insert("title".into(), json!(name));
    root.insert("description".into(), json!(description));
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs));
    }
    schema
}

fn to_json(schema: impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(schema).expect("a schema is JSON");
    point_refs_at_defs(&mut value);
    value
}

fn point_refs_at_defs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match inner {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            *target = format!("#/$defs/{name}");
                        }
                    }
                    _ => point_refs_at_defs(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(point_refs_at_defs),
        _ => {}
    }
}
