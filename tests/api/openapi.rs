use serde_json::Value;

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
