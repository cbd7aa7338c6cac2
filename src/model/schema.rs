//! How the API document (`GET /api/openapi.json`) and the event schemas
//! describe the types whose serde is written by hand, so their schema
//! cannot be derived: a [`Channel`] is its label on the wire. The derived
//! ones are `ToSchema` derives beside each type. Server only: the browser
//! build never compiles a schema.

use std::borrow::Cow;

use utoipa::{
    openapi::{schema::Type, ObjectBuilder, RefOr, Schema},
    PartialSchema, ToSchema,
};

use super::Channel;

/// What `Channel::from_str` accepts: one label per channel, so no sign on
/// a positive id and no leading zero.
pub const CHANNEL_PATTERN: &str = "^(all|role:(user|admin)|user:(0|-?[1-9][0-9]*))$";

impl PartialSchema for Channel {
    fn schema() -> RefOr<Schema> {
        let label = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(CHANNEL_PATTERN))
            .description(Some(
                "Who an entry is for: `all`, `role:user`, `role:admin` or `user:<id>`.",
            ))
            .examples(["all", "role:admin", "user:42"])
            .build();
        RefOr::T(Schema::Object(label))
    }
}

impl ToSchema for Channel {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Channel")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::channel::NOT_LABELS;

    /// The pattern says what the parser says, on the labels its own tests use.
    #[test]
    fn the_channel_pattern_is_the_parser() {
        let schema = serde_json::to_value(Channel::schema()).unwrap();
        let pattern = schema["pattern"].as_str().unwrap();
        assert_eq!(pattern, CHANNEL_PATTERN);
        let validator = jsonschema::validator_for(&schema).unwrap();
        let channels = [
            "all",
            "role:user",
            "role:admin",
            "user:0",
            "user:42",
            "user:-7",
        ];
        for label in channels.into_iter().chain(NOT_LABELS.iter().copied()) {
            assert_eq!(
                validator.is_valid(&serde_json::json!(label)),
                label.parse::<Channel>().is_ok(),
                "{label:?}"
            );
        }
    }
}
