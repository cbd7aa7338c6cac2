//! `GET /api/docs`: the API document as a page, written by the server from
//! the document itself (so it lists exactly what `/api/openapi.json`
//! says), with no script and nothing fetched: Herald's machines and its
//! users' may reach no CDN.

use std::fmt::Write;

use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#1d2330}code,pre{font:13px ui-monospace,monospace}pre{background:#f4f5f7;\
padding:.75rem;overflow:auto}section.op{border-top:1px solid #d8dbe2;padding:.5rem 0}\
.method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}\
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;vertical-align:top}";

/// The page for `doc` (an OpenAPI document as JSON).
pub fn render(doc: &Value) -> String {
    let mut html = String::new();
    let title = text(&doc["info"]["title"]);
    let version = text(&doc["info"]["version"]);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} API</title><style>{STYLE}</style></head><body>\
         <h1>{title} API <small>{version}</small></h1><p>{}</p>\
         <p>The document: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI {}). \
         The stream's events: <a href=\"/api/event-schemas.json\">/api/event-schemas.json</a>.</p>",
        text(&doc["info"]["description"]),
        text(&doc["openapi"]),
    );
    security_schemes(&mut html, &doc["components"]["securitySchemes"]);
    html.push_str("<h2>Operations</h2>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    operation(&mut html, method, path, op);
                }
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                html,
                "<h3 id=\"schema-{0}\">{0}</h3><pre>{1}</pre>",
                escape(name),
                escape(&pretty)
            );
        }
    }
    html.push_str("</body></html>");
    html
}

fn security_schemes(html: &mut String, schemes: &Value) {
    html.push_str("<h2>Authentication</h2><dl>");
    if let Some(schemes) = schemes.as_object() {
        for (name, scheme) in schemes {
            let how = match (scheme["type"].as_str(), scheme["in"].as_str()) {
                (Some("apiKey"), Some(place)) => {
                    format!("{place} <code>{}</code>", text(&scheme["name"]))
                }
                _ => format!(
                    "{} {}",
                    text(&scheme["scheme"]),
                    text(&scheme["bearerFormat"])
                ),
            };
            let _ = write!(
                html,
                "<dt><code>{}</code>: {how}</dt><dd>{}</dd>",
                escape(name),
                text(&scheme["description"])
            );
        }
    }
    html.push_str("</dl>");
}

fn operation(html: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        html,
        "<section class=\"op\" id=\"{}\"><h3><span class=\"method\">{method}</span> \
         <code>{}</code></h3><p><strong>{}</strong></p>",
        text(&op["operationId"]),
        escape(path),
        text(&op["summary"]),
    );
    let description = text(&op["description"]);
    if !description.is_empty() {
        let _ = write!(html, "<p>{description}</p>");
    }
    let _ = write!(html, "<p>Who: {}</p>", who(&op["security"]));
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        html.push_str("<p>Parameters:</p><ul>");
        for param in params {
            let _ = write!(
                html,
                "<li><code>{}</code> ({}{}) {}</li>",
                text(&param["name"]),
                text(&param["in"]),
                if param["required"] == Value::Bool(true) {
                    ", required"
                } else {
                    ""
                },
                text(&param["description"]),
            );
        }
        html.push_str("</ul>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for (media, body) in content {
            let _ = write!(html, "<p>Body: {}</p>", content_of(media, body));
        }
    }
    html.push_str("<table><tr><th>status</th><th>answer</th><th>body</th></tr>");
    if let Some(responses) = op["responses"].as_object() {
        for (status, response) in responses {
            let bodies: Vec<String> = response["content"]
                .as_object()
                .map(|content| {
                    content
                        .iter()
                        .map(|(media, body)| content_of(media, body))
                        .collect()
                })
                .unwrap_or_default();
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(status),
                text(&response["description"]),
                bodies.join("<br>")
            );
        }
    }
    html.push_str("</table></section>");
}

/// One media type of a request or response body, and its schema.
fn content_of(media: &str, body: &Value) -> String {
    format!(
        "<code>{}</code> {}",
        escape(media),
        schema_link(&body["schema"])
    )
}

/// "anyone", or the alternatives: `scheme (scope, …)` or …
fn who(security: &Value) -> String {
    let Some(alternatives) = security.as_array() else {
        return "anyone".into();
    };
    let named: Vec<String> = alternatives
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.iter())
        .map(|(scheme, scopes)| {
            let scopes: Vec<String> = scopes
                .as_array()
                .map(|s| s.iter().map(text).collect())
                .unwrap_or_default();
            if scopes.is_empty() {
                format!("<code>{}</code>", escape(scheme))
            } else {
                format!("<code>{}</code> ({})", escape(scheme), scopes.join(", "))
            }
        })
        .collect();
    if named.is_empty() {
        "anyone".into()
    } else {
        named.join(" or ")
    }
}

/// A link to a component schema, or the inline schema's type.
fn schema_link(schema: &Value) -> String {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap_or(target);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    match &schema["type"] {
        Value::Null => String::new(),
        kind => escape(&kind.to_string()),
    }
}

/// A JSON string's text, escaped; anything else, nothing.
fn text(value: &Value) -> String {
    value.as_str().map(escape).unwrap_or_default()
}

/// `& < > " '` escaped: text or a quoted attribute value.
fn escape(raw: &str) -> String {
    html_escape::encode_quoted_attribute(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_from_the_document_is_escaped() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": { "title": "<script>x</script>", "version": "1" },
            "paths": { "/a/{id}": { "get": {
                "operationId": "a\"b",
                "summary": "<b>",
                "responses": { "200": { "description": "ok & fine" } }
            } } }
        });
        let page = render(&doc);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(page.contains("id=\"a&quot;b\""));
        assert!(page.contains("ok &amp; fine"));
        assert!(page.contains("<code>/a/{id}</code>"));
    }
}
