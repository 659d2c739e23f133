//! What the derive can't say, added to the generated document in this one place, so that code
//! generators get a clean client: list pages refer to their item schema; every property the server
//! always sends is required; every operation and parameter is described; every response has an
//! example (each error status its own); public operations need no token; the webhook payloads are
//! declared; and the document names its server and its licence.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use utoipa::openapi::path::{Operation as DocOperation, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{OpenApi as Document, Paths, Ref, RefOr, Server};

use super::OPERATIONS;
use crate::error::{ApiError, FieldError};

/// Response properties the server leaves out when empty (`skip_serializing_if`), as
/// (schema, property). Every other property of what the server sends is always there.
const SOMETIMES_ABSENT: &[(&str, &str)] = &[
    ("Tokens", "user_id"),
    ("Tokens", "patient_id"),
    ("Me", "user_id"),
    ("Me", "patient_id"),
    ("CheckInReceipt", "message"),
    ("BatchItemResult", "check_in"),
    ("BatchItemResult", "problem"),
    ("Problem", "errors"),
    ("TokenResponse", "patient"),
];

pub fn finish(doc: &mut Document) {
    refer_page_items(doc);
    require_sent_properties(doc);
    for (path, method, op) in operations(&mut doc.paths) {
        describe(path, method, op);
    }
    add_examples(doc);
    doc.webhooks = Some(webhooks());
    doc.servers = Some(vec![Server::new("/")]);
    if let Some(license) = doc.info.license.as_mut() {
        license.identifier = Some(license.name.clone());
    }
}

/// Every operation of `paths`, with its path and lowercase method.
fn operations(paths: &mut Paths) -> Vec<(&str, &'static str, &mut DocOperation)> {
    let mut all = vec![];
    for (path, item) in paths.paths.iter_mut() {
        let methods = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in methods {
            if let Some(op) = op.as_mut() {
                all.push((path.as_str(), method, op));
            }
        }
    }
    all
}

/// utoipa copies a generic's item schema into every `Page_*`; a page refers to its item instead,
/// so that clients get one model per resource.
fn refer_page_items(doc: &mut Document) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let names: BTreeSet<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_").filter(|i| names.contains(*i)) else {
            continue;
        };
        if let RefOr::T(Schema::Object(page)) = schema
            && let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items")
        {
            items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
        }
    }
}

/// Every property of a schema the server sends (one no request names) is required, but those in
/// [`SOMETIMES_ABSENT`]: an `Option` the server sends as null is required and nullable.
fn require_sent_properties(doc: &mut Document) {
    let value = serde_json::to_value(&*doc).unwrap_or_default();
    let received = request_schemas(&value);
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if let RefOr::T(schema) = schema
            && !received.contains(name)
        {
            require_all(name, schema);
        }
    }
}

fn require_all(name: &str, schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            object.required = object
                .properties
                .keys()
                .filter(|p| !SOMETIMES_ABSENT.contains(&(name, p.as_str())))
                .cloned()
                .collect();
            for property in object.properties.values_mut() {
                if let RefOr::T(property) = property {
                    require_all(name, property);
                }
            }
        }
        Schema::AllOf(all) => {
            for part in all.items.iter_mut() {
                if let RefOr::T(part) = part {
                    require_all(name, part);
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(items) = items.as_mut()
            {
                require_all(name, items);
            }
        }
        _ => {}
    }
}

/// The schemas a request body or parameter refers to, directly or through another schema.
fn request_schemas(doc: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            refs_in(&op["requestBody"], doc, &mut found);
            refs_in(&op["parameters"], doc, &mut found);
        }
    }
    found
}

fn refs_in(value: &Value, doc: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            let name = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(schema_name);
            if let Some(name) = name
                && found.insert(name.to_string())
            {
                refs_in(&doc["components"]["schemas"][name], doc, found);
            }
            map.values().for_each(|v| refs_in(v, doc, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, doc, found)),
        _ => {}
    }
}

fn schema_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// Says who may call an operation, and describes each path parameter by what it names.
fn describe(path: &str, method: &str, op: &mut DocOperation) {
    let row = OPERATIONS
        .iter()
        .find(|o| o.path == path && o.method.eq_ignore_ascii_case(method));
    if let Some(row) = row {
        if row.roles == "public" {
            op.security = Some(vec![]);
        }
        let who = who_may(row.roles, row.audit.is_some());
        op.description = Some(match op.description.take() {
            Some(d) => format!("{d}\n\n{who}"),
            None => who,
        });
    }
    for param in op.parameters.iter_mut().flatten() {
        if let RefOr::T(param) = param
            && param.description.is_none()
            && matches!(param.parameter_in, ParameterIn::Path)
        {
            param.description = Some(path_parameter(path, &param.name));
        }
    }
}

fn who_may(roles: &str, audited: bool) -> String {
    if roles == "public" {
        return "Needs no token.".into();
    }
    let names: Vec<&str> = [('a', "admins"), ('c', "clinicians"), ('p', "patients")]
        .into_iter()
        .filter(|(c, _)| roles.contains(*c))
        .map(|(_, n)| n)
        .collect();
    let mut who = match names.as_slice() {
        [one] => format!("For {one} only; other roles get 403."),
        [a, b] => format!("For {a} and {b}; other roles get 403."),
        _ => "For admins, clinicians and patients (a patient only for what is theirs).".into(),
    };
    if audited {
        who.push_str(" Recorded in the clinic's audit trail.");
    }
    who
}

/// `The patient's id` for `{id}` in `/v1/patients/{id}`: what the segment before it lists.
fn path_parameter(path: &str, name: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments.iter().position(|s| *s == format!("{{{name}}}"));
    let list = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| segments.get(i));
    let noun = match list {
        Some(&"staff") => "staff member".to_string(),
        Some(&"adverse-events") => "complication".to_string(),
        Some(&"deliveries") => "delivery".to_string(),
        Some(list) => list.trim_end_matches('s').replace('-', " "),
        None => name.to_string(),
    };
    match name {
        "code" => format!("The {noun}'s code"),
        _ => format!("The {noun}'s id"),
    }
}

/// The OperationOutcome a FHIR response of this status carries.
fn outcome_example(status: &str) -> Option<Value> {
    let status: u16 = status.parse().ok()?;
    let reason = actix_web::http::StatusCode::from_u16(status).ok()?;
    let diagnostics = reason.canonical_reason().unwrap_or("error").to_lowercase();
    Some(crate::fhir::resources::operation_outcome(
        status,
        &diagnostics,
    ))
}

/// The problem a response of this status carries, as the service words it.
pub fn problem_example(status: &str) -> Option<Value> {
    let error = match status {
        "400" => ApiError::BadRequest(
            "the query parameters are not valid".into(),
            vec![FieldError::new("limit", "must be from 1 to 200")],
        ),
        "401" => ApiError::Unauthorized("the access token is invalid or expired"),
        "403" => ApiError::Forbidden,
        "404" => ApiError::NotFound,
        "409" => ApiError::Conflict("this resource already exists".into()),
        "413" => ApiError::PayloadTooLarge(super::extract::DEFAULT_BODY_LIMIT),
        "415" => ApiError::UnsupportedMediaType,
        "422" => ApiError::invalid("scores.redness", "must be between 0 and 4"),
        "429" => ApiError::TooManyRequests(30),
        "500" => ApiError::Internal(anyhow::anyhow!("an example")),
        "503" => ApiError::Unavailable("an example".into()),
        _ => return None,
    };
    serde_json::to_value(error.problem()).ok()
}

/// Each problem response gets the example of its status; each success response one built from its
/// schema, where its handler gave none.
fn add_examples(doc: &mut Document) {
    let value = serde_json::to_value(&*doc).unwrap_or_default();
    if let Some(components) = doc.components.as_mut() {
        for (name, response) in components.responses.iter_mut() {
            let example = match name.strip_prefix("OperationOutcome") {
                Some(status) => outcome_example(status),
                None => problem_example(name.trim_start_matches("Problem")),
            };
            if let RefOr::T(response) = response {
                for content in response.content.values_mut() {
                    if let RefOr::T(content) = content {
                        content.example = example.clone();
                    }
                }
            }
        }
    }
    for (_, _, op) in operations(&mut doc.paths) {
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            for (media, content) in response.content.iter_mut() {
                let RefOr::T(content) = content else {
                    continue;
                };
                if content.example.is_some() || !content.examples.is_empty() {
                    continue;
                }
                content.example = if media == "application/problem+json" {
                    problem_example(status)
                } else {
                    let schema = serde_json::to_value(&content.schema).unwrap_or_default();
                    Some(example_of(&schema, &value, 0))
                };
            }
        }
    }
}

/// A value of the schema: its own example if it has one, else one made of its parts' examples,
/// formats, enums and bounds. `depth` counts the references followed.
pub fn example_of(schema: &Value, doc: &Value, depth: usize) -> Value {
    if depth > 10 {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(name) = schema["$ref"].as_str().and_then(schema_name) {
        return example_of(&doc["components"]["schemas"][name], doc, depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = schema[key].as_array() {
            let variant = variants.iter().find(|v| v["type"] != "null");
            return variant.map_or(Value::Null, |v| example_of(v, doc, depth));
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Value::Object(fields) = example_of(part, doc, depth) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned(),
        kind => Some(kind.clone()),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let properties = schema["properties"].as_object().into_iter().flatten();
            let fields = properties.map(|(k, v)| (k.clone(), example_of(v, doc, depth)));
            Value::Object(fields.collect())
        }
        Some("array") => {
            let item = example_of(&schema["items"], doc, depth);
            let count = schema["minItems"].as_u64().unwrap_or(1).max(1) as usize;
            Value::Array(vec![item; count])
        }
        Some("string") => string_example(schema),
        Some("integer") => json!(
            schema["minimum"]
                .as_i64()
                .unwrap_or(0)
                .max(1)
                .min(schema["maximum"].as_i64().unwrap_or(i64::MAX))
        ),
        Some("number") => json!(schema["minimum"].as_f64().unwrap_or(1.0)),
        Some("boolean") => json!(true),
        _ => Value::Null,
    }
}

fn string_example(schema: &Value) -> Value {
    let text = match schema["format"].as_str() {
        Some("uuid") => "3f0c2a9e-8b1d-4c6e-9f2a-7d5b3c1e0a94",
        Some("date-time") => "2026-11-21T08:30:00Z",
        Some("date") => "2026-11-21",
        Some("email") => "dr.lee@clinic.example",
        Some("uri") => "https://hooks.clinic.example/aftercare",
        _ => "text",
    };
    json!(text)
}

/// One webhook per event type, each POSTing a `WebhookPayload` with that type's `data`.
fn webhooks() -> Paths {
    let events = [
        ("alert.raised", "AlertData", "A rule raised a new alert."),
        ("alert.resolved", "AlertData", "An alert was resolved."),
        ("check_in.created", "CheckInData", "A patient checked in."),
        (
            "adverse_event.recorded",
            "AdverseEventData",
            "A complication was recorded.",
        ),
        (
            "patient.erased",
            "PatientData",
            "A patient's data was erased on their request: erase what you hold of them too.",
        ),
        (
            "check_in.due",
            "CheckInDueData",
            "A scheduled check-in day reached the clinic's reminder hour without a check-in.",
        ),
        (
            "photo.received",
            "PhotoData",
            "A patient sent a photo with a check-in.",
        ),
    ];
    let headers = [
        (
            "Aftercare-Event-Id",
            "uuid",
            "The event's id, the same in every retry and redelivery: deduplicate on it.",
        ),
        (
            "Aftercare-Delivery-Id",
            "uuid",
            "This event to this endpoint, as listed in its deliveries.",
        ),
        ("Aftercare-Event-Type", "", "The payload's `type`."),
        (
            "Aftercare-Timestamp",
            "",
            "When this attempt was sent, in Unix seconds.",
        ),
        (
            "Aftercare-Signature",
            "",
            "`v1=` and the hex HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a \
             `.`, and the raw body.",
        ),
    ];
    let parameters: Vec<Value> = headers
        .iter()
        .map(|(name, format, about)| {
            let schema = match *format {
                "" => json!({"type": "string"}),
                f => json!({"type": "string", "format": f}),
            };
            json!({"name": name, "in": "header", "required": true, "description": about, "schema": schema})
        })
        .collect();
    let mut paths = serde_json::Map::new();
    for (event, data, about) in events {
        let schema = json!({"allOf": [
            {"$ref": "#/components/schemas/WebhookPayload"},
            {"type": "object", "properties": {
                "type": {"type": "string", "enum": [event]},
                "data": {"$ref": format!("#/components/schemas/{data}")},
            }},
        ]});
        let operation = json!({
            "tags": ["webhooks"],
            "summary": about,
            "description": format!("POSTed to each active webhook that subscribed to `{event}`; \
                see the `webhooks` tag for delivery, retries and the signature."),
            "operationId": format!("webhook_{}", event.replace('.', "_")),
            "parameters": parameters,
            "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "Any 2xx within 10 seconds delivers the event; \
                anything else is retried."}},
            "security": [],
        });
        paths.insert(event.to_string(), json!({"post": operation}));
    }
    serde_json::from_value(Value::Object(paths)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_parameter_is_named_by_its_list() {
        let describe = |path, name| path_parameter(path, name);
        assert_eq!(describe("/v1/patients/{id}", "id"), "The patient's id");
        assert_eq!(
            describe("/v1/treatments/{id}/adverse-events/{event_id}", "event_id"),
            "The complication's id"
        );
        assert_eq!(
            describe("/v1/patients/{id}/enrollment-codes/{code_id}", "code_id"),
            "The enrollment code's id"
        );
        assert_eq!(
            describe("/v1/symptoms/{code}", "code"),
            "The symptom's code"
        );
        assert_eq!(describe("/v1/staff/{id}", "id"), "The staff member's id");
    }

    #[test]
    fn who_may_call_follows_the_roles_of_the_table() {
        assert_eq!(who_may("public", false), "Needs no token.");
        assert_eq!(who_may("a", false), "For admins only; other roles get 403.");
        assert_eq!(
            who_may("ac", true),
            "For admins and clinicians; other roles get 403. Recorded in the clinic's audit trail."
        );
        assert!(who_may("acp", false).starts_with("For admins, clinicians and patients"));
    }

    #[test]
    fn each_error_status_has_its_own_problem() {
        let statuses = [
            "400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503",
        ];
        let types: BTreeSet<String> = statuses
            .iter()
            .map(|s| {
                let problem = problem_example(s).unwrap();
                assert_eq!(problem["status"].to_string(), *s);
                problem["type"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(types.len(), statuses.len());
    }

    #[test]
    fn an_example_follows_the_schema() {
        let doc = json!({"components": {"schemas": {
            "Level": {"type": "string", "enum": ["urgent", "high"]},
            "Item": {"type": "object", "properties": {
                "id": {"type": "string", "format": "uuid"},
                "level": {"$ref": "#/components/schemas/Level"},
                "day": {"type": ["integer", "null"], "minimum": 0, "maximum": 90},
                "note": {"oneOf": [{"type": "null"}, {"type": "string", "example": "sore"}]},
                "tags": {"type": "array", "items": {"type": "boolean"}, "minItems": 2},
            }},
        }}});
        let page = json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        }});
        assert_eq!(
            example_of(&page, &doc, 0),
            json!({"items": [{"id": "3f0c2a9e-8b1d-4c6e-9f2a-7d5b3c1e0a94", "level": "urgent",
                "day": 1, "note": "sore", "tags": [true, true]}]})
        );
    }
}
