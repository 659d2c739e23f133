use serde_json::{Value, json};

use crate::helpers::*;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

/// The committed document is what the code generates. To refresh it after a change:
/// `cargo run -- openapi > openapi/openapi.json`.
#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated: Value =
        serde_json::from_str(&aftercare::api::openapi().to_pretty_json().unwrap()).unwrap();
    let committed: Value = serde_json::from_str(COMMITTED).unwrap();
    assert!(
        generated == committed,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_documents_its_body_example_security_and_errors() {
    let doc: Value =
        serde_json::from_str(&aftercare::api::openapi().to_pretty_json().unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let public = [
        "/livez",
        "/readyz",
        "/v1/auth/login",
        "/v1/auth/enroll",
        "/v1/auth/refresh",
        "/v1/auth/password-reset",
        "/metrics",
        "/v1/push/config",
        "/fhir/R4/metadata",
        "/fhir/R4/.well-known/smart-configuration",
        "/fhir/R4/auth/token",
        "/fhir/R4/auth/authorize",
        "/.well-known/smart-configuration",
    ];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500") && responses.contains_key("400"),
                "{name}"
            );
            if !public.contains(&path.as_str()) {
                assert!(op["security"].is_array(), "{name} declares no security");
                assert!(responses.contains_key("401"), "{name}");
            }
            if let Some(body) = op.get("requestBody") {
                // JSON, or the form of FHIR's token endpoint (OAuth 2.0: errors are 400s).
                let (media, content) = body["content"].as_object().unwrap().iter().next().unwrap();
                let schema = &content["schema"]["$ref"];
                let schema_name = schema.as_str().unwrap().rsplit('/').next().unwrap();
                let example = &doc["components"]["schemas"][schema_name]["example"];
                assert!(
                    !example.is_null(),
                    "{name}: request body {schema_name} has no example"
                );
                let status = if media == "application/json" {
                    "422"
                } else {
                    "400"
                };
                assert!(responses.contains_key(status), "{name}");
            }
        }
    }
}

#[tokio::test]
async fn the_document_and_its_page_are_served() {
    let app = spawn_app().await;
    let served = app
        .request(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    let committed: Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(served.ok(200)["paths"], committed["paths"]);
    let page = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = redirect
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
}

fn document() -> Value {
    serde_json::from_str(&aftercare::api::openapi().to_pretty_json().unwrap()).unwrap()
}

/// Every operation of the document's paths and webhooks, named `METHOD path`.
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut all = vec![];
    for section in ["paths", "webhooks"] {
        for (path, item) in doc[section].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                all.push((format!("{method} {path}"), op));
            }
        }
    }
    all
}

/// What code generators need: descriptions, examples of each status, one model per schema.
#[test]
fn every_operation_parameter_and_response_is_described_with_its_own_example() {
    let doc = document();
    for (name, op) in operations(&doc) {
        let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.is_empty());
        assert!(described(op), "{name} has no description");
        for param in op["parameters"].as_array().into_iter().flatten() {
            assert!(
                described(param),
                "{name}: {} has no description",
                param["name"]
            );
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let response = match response["$ref"].as_str() {
                Some(r) => &doc["components"]["responses"][r.rsplit('/').next().unwrap()],
                None => response,
            };
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                let example = &content["example"];
                assert!(!example.is_null(), "{name} {status} {media} has no example");
                if media == "application/problem+json" {
                    assert_eq!(example["status"].to_string(), *status, "{name}");
                }
            }
        }
    }
}

#[test]
fn every_schema_is_used_once_and_named_for_what_it_is() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, page) in schemas.iter().filter(|(n, _)| n.starts_with("Page_")) {
        let item = name.trim_start_matches("Page_");
        assert!(schemas.contains_key(item), "{name}");
        assert_eq!(
            page["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{name} copies its item"
        );
    }
    assert_eq!(
        schemas["CheckInBatch"]["properties"]["check_ins"]["items"]["$ref"],
        "#/components/schemas/NewCheckIn"
    );
    let text = doc.to_string();
    for name in schemas.keys() {
        assert!(
            text.contains(&format!("\"#/components/schemas/{name}\"")),
            "{name} is not used"
        );
    }
    for generic in ["Status", "Level", "Rule", "Action", "Event", "EventType"] {
        assert!(!schemas.contains_key(generic), "{generic}");
    }
    let types = schemas["ProblemType"]["enum"].as_array().unwrap();
    assert_eq!(types.len(), 13);
    assert!(types.contains(&json!("urn:aftercare:problem:validation")));
    assert_eq!(
        schemas["Problem"]["properties"]["type"]["$ref"],
        "#/components/schemas/ProblemType"
    );
    // An `Option` the server always sends is required, and may be null.
    let patient = &schemas["Patient"];
    assert!(
        patient["required"].as_array().unwrap().len()
            == patient["properties"].as_object().unwrap().len()
    );
    assert!(
        !schemas["Me"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("user_id"))
    );
}

#[test]
fn public_operations_servers_licence_and_webhooks_are_declared() {
    let doc = document();
    assert_eq!(doc["servers"][0]["url"], "/");
    assert_eq!(
        doc["info"]["license"]["identifier"],
        env!("CARGO_PKG_LICENSE")
    );
    for op in aftercare::api::OPERATIONS {
        let declared = &doc["paths"][op.path][op.method.to_lowercase()];
        if op.roles == "public" {
            assert_eq!(declared["security"], json!([]), "{}", op.path);
        } else {
            assert_eq!(declared["security"], json!([{"bearer": []}]), "{}", op.path);
        }
    }
    let events = doc["components"]["schemas"]["WebhookEvent"]["enum"]
        .as_array()
        .unwrap();
    let webhooks = doc["webhooks"].as_object().unwrap();
    assert_eq!(webhooks.len(), events.len());
    for event in events {
        let body = &webhooks[event.as_str().unwrap()]["post"]["requestBody"];
        let schema = &body["content"]["application/json"]["schema"]["allOf"];
        assert_eq!(schema[1]["properties"]["type"]["enum"], json!([event]));
    }
}
