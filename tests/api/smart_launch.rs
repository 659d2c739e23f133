//! SMART App Launch (STU 2): the discovery document against the specification's required fields;
//! an EHR launch and a standalone launch driven by an independent client (PyPI's fhirclient,
//! tests/smart/launch.py), the "browser" between them an HTTP client that does not follow
//! redirects, and the consent page's decision made with the user's token; and each refusal: a
//! wrong PKCE verifier, a reused code (which revokes its tokens), a scope beyond the app's or the
//! grant's, a patient's token reading another patient, a revoked token.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::smart_flow::*;

const LAUNCH: &str = "http://127.0.0.1:9/launch";

/// fhirclient's Python (tests/smart/install makes it), or None when it is missing and the launch
/// tests may be skipped (only outside CI: AFTERCARE_FHIR_TEST=required makes it a failure).
fn python() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let python = std::path::Path::new(&home).join(".cache/aftercare/smart-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var("AFTERCARE_FHIR_TEST").as_deref() == Ok("required") {
        panic!("{} is missing: run tests/smart/install", python.display());
    }
    eprintln!("skipping the fhirclient launches: run tests/smart/install");
    None
}

/// Runs tests/smart/launch.py with these arguments; its output, or a panic with what it said.
async fn launch_py(python: &std::path::Path, args: Vec<String>) -> String {
    let python = python.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smart/launch.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .expect("run launch.py");
        assert!(
            out.status.success(),
            "launch.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    })
    .await
    .expect("launch.py")
}

async fn register(app: &TestApp, admin: &str, scopes: &str) -> String {
    let body = json!({"name": "Scar photo analysis", "redirect_uris": [REDIRECT],
                      "launch_url": LAUNCH, "client_type": "public", "scopes": scopes});
    id_of(app.post("/v1/smart-apps", admin, body).await.ok(201))
}

#[tokio::test]
async fn discovery_lists_what_smart_app_launch_stu2_requires() {
    let app = spawn_app().await;
    let base = fhir_base(&app);
    for path in [
        "/.well-known/smart-configuration",
        "/fhir/R4/.well-known/smart-configuration",
    ] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let c = into_resp(res).await.ok(200).clone();
        // SMART App Launch STU 2 (2.0.0), "Conformance", section "Metadata"
        // (http://hl7.org/fhir/smart-app-launch/STU2/conformance.html#metadata), its REQUIRED
        // fields, in the specification's words:
        //   `authorization_endpoint`: REQUIRED, URL to the OAuth2 authorization endpoint.
        //   `grant_types_supported`: REQUIRED, Array of grant types supported at the token
        //     endpoint. The options are "authorization_code" (when SMART App Launch is
        //     supported) and "client_credentials" (when SMART Backend Services is supported).
        //   `token_endpoint`: REQUIRED, URL to the OAuth2 token endpoint.
        //   `capabilities`: REQUIRED, Array of strings representing SMART capabilities (e.g.,
        //     `sso-openid-connect` or `launch-standalone`) that the server supports.
        //   `code_challenge_methods_supported`: REQUIRED, Array of PKCE code challenge methods
        //     supported. The `S256` method SHALL be included in this list, and the `plain`
        //     method SHALL NOT be included in this list.
        // And `issuer`: CONDITIONAL, "Required if [...] `sso-openid-connect`; otherwise, omitted".
        assert_eq!(
            c["authorization_endpoint"],
            json!(format!("{base}/auth/authorize"))
        );
        assert_eq!(c["token_endpoint"], json!(format!("{base}/auth/token")));
        let list = |name: &str| -> Vec<String> {
            c[name]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is a list"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let grants = list("grant_types_supported");
        assert!(
            grants.contains(&"authorization_code".into())
                && grants.contains(&"client_credentials".into())
        );
        let challenges = list("code_challenge_methods_supported");
        assert!(challenges.contains(&"S256".into()), "{challenges:?}");
        assert!(!challenges.contains(&"plain".into()), "{challenges:?}");
        let capabilities = list("capabilities");
        assert!(!capabilities.contains(&"sso-openid-connect".into()));
        assert!(
            c.get("issuer").is_none(),
            "issuer without sso-openid-connect"
        );
        // The capabilities issue 27 names, and the others the server has.
        for wanted in [
            "launch-ehr",
            "launch-standalone",
            "context-ehr-patient",
            "context-standalone-patient",
            "client-public",
            "client-confidential-asymmetric",
            "permission-v1",
            "permission-v2",
            "permission-patient",
            "permission-user",
        ] {
            assert!(capabilities.contains(&wanted.into()), "{wanted} missing");
        }
    }
}

#[tokio::test]
async fn an_ehr_launch_from_the_dashboard_with_fhirclient() {
    let Some(python) = python() else { return };
    let app = spawn_app().await;
    let s = app.scenario("Launch").await;
    let client = register(&app, &s.clinic.admin, "launch patient/*.rs").await;
    // The clinician opens the app from the first patient's page.
    let patient = &s.patients[0].id;
    let r = app
        .post(
            &format!("/v1/smart-apps/{client}/launches"),
            &s.clinician,
            json!({"patient_id": patient}),
        )
        .await;
    let opened = r.ok(201)["url"].as_str().unwrap().to_string();
    assert!(opened.starts_with(LAUNCH));
    let iss = param(&opened, "iss").unwrap();
    assert_eq!(iss, fhir_base(&app));
    let launch = param(&opened, "launch").unwrap();

    let state = std::env::temp_dir().join(format!("smart-{}", uuid::Uuid::new_v4()));
    let state = state.to_str().unwrap().to_string();
    let settings = json!({"app_id": client, "api_base": iss, "redirect_uri": REDIRECT,
                          "scope": "patient/*.rs", "launch_token": launch});
    let url = launch_py(
        &python,
        vec!["authorize".into(), state.clone(), settings.to_string()],
    )
    .await;
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let (status, page) = authorize(&app, &url).await;
    assert_eq!(status, 303, "{page}");
    // First time: the clinician is asked; they approve.
    let asked = consent(&app, &s.clinician, &page, "ask", None).await;
    assert_eq!(asked["consent"]["app"], "Scar photo analysis");
    assert_eq!(asked["consent"]["needs_patient"], false);
    let decided = consent(&app, &s.clinician, &page, "approve", None).await;
    let callback = decided["redirect"].as_str().unwrap().to_string();
    assert!(callback.starts_with(REDIRECT));

    let out = launch_py(
        &python,
        vec!["callback".into(), state.clone(), callback.clone()],
    )
    .await;
    let out: Value = serde_json::from_str(&out).expect("launch.py prints JSON");
    assert_eq!(out["patient_id"], json!(patient));
    assert_eq!(out["patient"]["id"], json!(patient));
    let token = out["access_token"].as_str().unwrap().to_string();

    // The patient's compartment only: the other patient is not there.
    let other = &s.patients[1].id;
    app.get(&format!("/fhir/R4/Patient/{other}"), &token)
        .await
        .ok(404);
    let bundle = app.get("/fhir/R4/Patient", &token).await;
    let entries = bundle.ok(200)["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["resource"]["id"], json!(patient));
    // Nothing under /v1, no export.
    app.get("/v1/patients", &token).await.ok(401);
    app.get("/fhir/R4/Patient/$export", &token).await.ok(403);

    // The same code again: refused, and the token it gave is revoked.
    let code = param(&callback, "code").unwrap();
    let (verifier, _) = pkce();
    let again = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error"], "invalid_grant");
    app.get(&format!("/fhir/R4/Patient/{patient}"), &token)
        .await
        .ok(401);

    // Approved once: the next launch skips the consent page.
    let r = app
        .post(
            &format!("/v1/smart-apps/{client}/launches"),
            &s.clinician,
            json!({"patient_id": patient}),
        )
        .await;
    let launch = param(r.ok(201)["url"].as_str().unwrap(), "launch").unwrap();
    let (_, challenge) = pkce();
    let mut params = request(&app, &client, "launch patient/Observation.rs", &challenge);
    set(&mut params, "launch", &launch);
    let (_, page) = authorize(&app, &authorize_url(&app, &params)).await;
    let asked = consent(&app, &s.clinician, &page, "ask", None).await;
    assert!(
        param(asked["redirect"].as_str().unwrap(), "code").is_some(),
        "{asked}"
    );
    let _ = std::fs::remove_file(state);
}

#[tokio::test]
async fn a_standalone_launch_by_a_patient_with_fhirclient() {
    let Some(python) = python() else { return };
    let app = spawn_app().await;
    let s = app.scenario("Standalone").await;
    let client = register(&app, &s.clinic.admin, "launch/patient patient/*.read").await;
    let me = &s.patients[0];
    let state = std::env::temp_dir().join(format!("smart-{}", uuid::Uuid::new_v4()));
    let state = state.to_str().unwrap().to_string();
    let settings = json!({"app_id": client, "api_base": fhir_base(&app), "redirect_uri": REDIRECT,
                          "scope": "patient/Patient.read patient/Observation.rs"});
    let url = launch_py(
        &python,
        vec!["authorize".into(), state.clone(), settings.to_string()],
    )
    .await;
    assert!(param(&url, "launch").is_none());
    let (status, page) = authorize(&app, &url).await;
    assert_eq!(status, 303, "{page}");
    // The patient, signed in to the patient app, approves for their own record.
    let decided = consent(&app, &me.token, &page, "approve", None).await;
    let callback = decided["redirect"].as_str().unwrap().to_string();
    let out = launch_py(&python, vec!["callback".into(), state.clone(), callback]).await;
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["patient_id"], json!(me.id));
    assert_eq!(out["patient"]["id"], json!(me.id));
    let token = out["access_token"].as_str().unwrap().to_string();
    let other = &s.patients[1].id;
    app.get(&format!("/fhir/R4/Patient/{other}"), &token)
        .await
        .ok(404);
    // Granted Patient and Observation only.
    app.get("/fhir/R4/Procedure", &token).await.ok(403);

    // Every token is audited, and the patient withdraws the app's authorization: refused at once.
    let r = app
        .get(&format!("/v1/smart-apps/{client}/tokens"), &s.clinic.admin)
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user_id"], json!(me.id));
    assert_eq!(items[0]["patient_id"], json!(me.id));
    assert_eq!(
        items[0]["scope"],
        "launch/patient patient/Patient.rs patient/Observation.rs"
    );
    assert_eq!(items[0]["active"], true);
    let r = app
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/smart-apps/{client}/authorization"),
            Some(&me.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    app.get(&format!("/fhir/R4/Patient/{}", me.id), &token)
        .await
        .ok(401);
    let _ = std::fs::remove_file(state);
}

#[tokio::test]
async fn wrong_verifiers_reused_codes_wider_scopes_and_other_patients_are_refused() {
    let app = spawn_app().await;
    let s = app.scenario("Refusals").await;
    let client = register(
        &app,
        &s.clinic.admin,
        "launch/patient patient/Observation.rs patient/Patient.r user/*.rs",
    )
    .await;
    let base_params = |challenge: &str| {
        request(
            &app,
            &client,
            "launch/patient patient/Observation.rs",
            challenge,
        )
    };

    // A wrong PKCE verifier.
    let (verifier, challenge) = pkce();
    let code = code_for(&app, &s.patients[0].token, &base_params(&challenge), None).await;
    let (wrong, _) = pkce();
    let exchange = |code: String, verifier: String| {
        let client = client.clone();
        let app = &app;
        async move {
            token_request(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", &client),
                    ("code_verifier", &verifier),
                ],
            )
            .await
        }
    };
    let r = exchange(code.clone(), wrong).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The code is spent: the right verifier comes too late.
    let r = exchange(code, verifier).await;
    assert_eq!(r.status, 400);

    // A reused code: the second exchange is refused.
    let (verifier, challenge) = pkce();
    let code = code_for(&app, &s.patients[0].token, &base_params(&challenge), None).await;
    let first = exchange(code.clone(), verifier.clone()).await;
    let granted = first.ok(200).clone();
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["patient"], json!(s.patients[0].id));
    assert_eq!(granted["scope"], "launch/patient patient/Observation.rs");
    let token = granted["access_token"].as_str().unwrap().to_string();
    // Beyond the grant: Observation only, not Patient.
    app.get(&format!("/fhir/R4/Patient/{}", s.patients[0].id), &token)
        .await
        .ok(403);
    let own = app
        .get(
            &format!("/fhir/R4/Observation?patient={}", s.patients[1].id),
            &token,
        )
        .await;
    assert!(own.ok(200)["entry"].as_array().is_none_or(|e| e.is_empty()));
    let r = exchange(code, verifier).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    app.get("/fhir/R4/Observation", &token).await.ok(401);

    // A scope beyond the app's: back to the app with invalid_scope, never to the consent page.
    let (_, challenge) = pkce();
    let mut params = base_params(&challenge);
    set(&mut params, "scope", "patient/*.rs");
    let (status, location) = authorize(&app, &authorize_url(&app, &params)).await;
    assert_eq!(status, 303);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(param(&location, "state").as_deref(), Some("s-1"));
    // plain PKCE, a wrong aud: invalid_request, redirected.
    for (name, value) in [
        ("code_challenge_method", "plain"),
        ("aud", "https://elsewhere.example/fhir"),
    ] {
        let mut params = base_params(&challenge);
        set(&mut params, name, value);
        let (status, location) = authorize(&app, &authorize_url(&app, &params)).await;
        assert_eq!(status, 303);
        assert_eq!(
            param(&location, "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
    }
    // An unregistered redirect URI or an unknown client: an error page, no redirect.
    for (name, value) in [
        ("redirect_uri", "https://evil.example/cb"),
        ("client_id", "not-an-app"),
    ] {
        let mut params = base_params(&challenge);
        set(&mut params, name, value);
        let res = browser()
            .get(authorize_url(&app, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400);
        assert!(res.headers().get("location").is_none());
    }

    // A clinician's standalone launch asks for the patient, then opens that one only.
    let (verifier, challenge) = pkce();
    let params = base_params(&challenge);
    let (_, page) = authorize(&app, &authorize_url(&app, &params)).await;
    let asked = consent(&app, &s.clinician, &page, "ask", None).await;
    assert_eq!(asked["consent"]["needs_patient"], true);
    let code = code_for(&app, &s.clinician, &params, Some(&s.patients[1].id)).await;
    let granted = exchange(code, verifier).await;
    let token = granted.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(
        &format!("/fhir/R4/Observation?patient={}", s.patients[0].id),
        &token,
    )
    .await
    .ok(200);
    // The admin revokes every token of the app: refused at once.
    let r = app
        .post(
            &format!("/v1/smart-apps/{client}/revoke"),
            &s.clinic.admin,
            json!({}),
        )
        .await;
    assert!(r.ok(200)["revoked"].as_u64().unwrap() >= 1);
    app.get("/fhir/R4/Observation", &token).await.ok(401);

    // A user token reads the clinic's data; a patient may not grant one.
    let (verifier, challenge) = pkce();
    let mut params = base_params(&challenge);
    set(&mut params, "scope", "user/*.rs");
    let code = code_for(&app, &s.clinician, &params, None).await;
    let granted = exchange(code, verifier).await;
    let token = granted.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let all = app.get("/fhir/R4/Patient", &token).await;
    assert_eq!(all.ok(200)["entry"].as_array().unwrap().len(), 2);
    let (_, page) = authorize(&app, &authorize_url(&app, &params)).await;
    let decided = consent(&app, &s.patients[0].token, &page, "approve", None).await;
    let location = decided["redirect"].as_str().unwrap();
    assert_eq!(param(location, "error").as_deref(), Some("invalid_scope"));
}
