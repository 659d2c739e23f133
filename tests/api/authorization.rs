//! The authorization matrix: every documented operation, called as every role of the clinic, as
//! another patient, and as every role of another clinic, answers as `api::OPERATIONS` says.

use aftercare::api::OPERATIONS;
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// The ids the paths and bodies are filled with: clinic A's resources, of its first patient.
struct Ids {
    patient: String,
    treatment: String,
    protocol: String,
    protocol2: String,
    staff: String,
    check_in: String,
    alert: String,
    code_id: String,
    adverse_event: String,
    outcome: String,
    webhook: String,
    delivery: String,
    /// A spare session of the clinician's, to revoke.
    session: String,
    /// The first patient's push subscription.
    push_subscription: String,
    /// A finished FHIR export, and one of its files.
    export: String,
    export_file: String,
    fhir_client: String,
    /// A SMART app with a launch URL.
    smart_app: String,
    /// A photo of the check-in.
    photo: String,
    /// The clinic's own items, as a CodeSystem (and ValueSet) id.
    clinic_items: String,
}

/// Operations that end what later calls need (a session, a phone, a patient, an account): called
/// last, in this order, each with fresh tokens and the allowed roles last.
const ENDINGS: [&str; 5] = [
    "/v1/smart-apps/{id}",
    "/v1/patients/{id}/unenroll",
    "/v1/staff/{id}/sessions/{session_id}/revoke",
    "/v1/patients/{id}/erasure",
    "/v1/staff/{id}/deactivate",
];

fn fill_path(path: &str, ids: &Ids) -> String {
    // FHIR: a Patient's read and search, a protocol's Group, a photo's Binary, the export's status and file, the
    // clinic's own items' CodeSystem and ValueSet.
    if let Some(rest) = path.strip_prefix("/fhir/R4/") {
        let id = match rest {
            r if r.starts_with("Group/") => &ids.protocol,
            r if r.starts_with("Binary/") => &ids.photo,
            r if r.starts_with("CodeSystem/") || r.starts_with("ValueSet/") => &ids.clinic_items,
            r if r.starts_with('$') => &ids.export,
            _ => &ids.patient,
        };
        let filled = rest
            .replace("{type}", "Patient")
            .replace("{id}", id)
            .replace("{file}", &ids.export_file);
        return format!("/fhir/R4/{filled}");
    }
    let id = match path.split('/').nth(2).unwrap_or("") {
        "patients" => &ids.patient,
        "treatments" => &ids.treatment,
        "protocols" => &ids.protocol,
        "staff" => &ids.staff,
        "check-ins" => &ids.check_in,
        "alerts" => &ids.alert,
        "webhooks" => &ids.webhook,
        "push-subscriptions" => &ids.push_subscription,
        "fhir-clients" => &ids.fhir_client,
        "smart-apps" => &ids.smart_app,
        _ => "",
    };
    let mut path = path
        .replace("{id}", id)
        .replace("{code_id}", &ids.code_id)
        .replace("{event_id}", &ids.adverse_event)
        .replace("{outcome_id}", &ids.outcome)
        .replace("{delivery_id}", &ids.delivery)
        .replace("{session_id}", &ids.session)
        .replace("{photo_id}", &ids.photo)
        .replace("{code}", "redness");
    if path == "/v1/protocols/compare" {
        path = format!("{path}?ids={},{}", ids.protocol, ids.protocol2);
    }
    path
}

/// The operation's documented example body, pointed at clinic A's resources.
fn example_body(doc: &Value, op: &Value, ids: &Ids) -> Option<Value> {
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    let mut body = doc["components"]["schemas"][name]["example"].clone();
    fill_body(&mut body, ids);
    Some(body)
}

fn fill_body(v: &mut Value, ids: &Ids) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "treatment_id" => *value = json!(ids.treatment),
                    "protocol_id" => *value = json!(ids.protocol),
                    "patient_id" => *value = json!(ids.patient),
                    // A check-in's own id: a new one each time.
                    "id" => *value = json!(Uuid::new_v4()),
                    "recorded_at" => *value = json!(Utc::now()),
                    // The password stays as it was, so that everyone can sign in again.
                    "current_password" | "new_password" => *value = json!(PASSWORD),
                    _ => fill_body(value, ids),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill_body(i, ids)),
        _ => {}
    }
}

/// Calls the operation; a description of the answer if it is not what `expect` says.
async fn check(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    expect: &str,
    who: &str,
) -> Option<String> {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = app.request(m, path, token, body.as_ref()).await;
    let ok = match expect {
        "allowed" => r.status < 500 && ![401, 403, 404].contains(&r.status),
        "401" => r.status == 401,
        "403" => r.status == 403,
        "404" => r.status == 404,
        _ => r.status < 500,
    };
    (!ok).then(|| {
        format!(
            "{method} {path} as {who}: expected {expect}, got {} {}",
            r.status, r.body
        )
    })
}

/// A FHIR export of the clinic's patients, run to the end by the worker's code: its id and its
/// first file's.
async fn finished_export(app: &TestApp, admin: &str) -> (String, String) {
    let kicked = app
        .client
        .get(format!(
            "{}/fhir/R4/Patient/$export?_type=Patient",
            app.base
        ))
        .bearer_auth(admin)
        .header("Prefer", "respond-async")
        .send()
        .await
        .unwrap();
    let status = kicked.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_string();
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = aftercare::db::pool(
            &url,
            1,
            std::time::Duration::from_secs(2),
            std::time::Duration::from_secs(5),
        );
        aftercare::workers::fhir_export::run_once(&pool, Default::default()).unwrap()
    })
    .await
    .unwrap();
    let status = status.replace(&app.base, "");
    let manifest = app.get(&status, admin).await;
    let file = manifest.ok(200)["output"][0]["url"].as_str().unwrap();
    let id = |s: &str| s.rsplit('/').next().unwrap().to_string();
    (id(&status), id(file))
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_table_says() {
    let app = spawn_app().await;
    let a = app.scenario("Lumen").await;
    let b = app.scenario("Other").await;
    let doc: Value =
        serde_json::from_str(&aftercare::api::openapi().to_pretty_json().unwrap()).unwrap();

    // Clinic A's resources: a webhook, an urgent check-in with its alert and delivery, a complication.
    let webhook = app
        .post("/v1/webhooks", &a.clinic.admin, json!({"url": "https://hooks.clinic.example/aftercare", "events": ["check_in.created"]}))
        .await;
    let webhook = id_of(webhook.ok(201));
    let p = &a.patients[0];
    let urgent = CheckIn::new(&p.treatment, Utc::now(), json!({"infection": 1}))
        .note("A yellow crust since this morning.");
    let receipt = app.check_in(&p.token, &urgent).await;
    let receipt = receipt.ok(201).clone();
    let adverse = app
        .post(&format!("/v1/treatments/{}/adverse-events", p.treatment), &a.clinician,
              json!({"term": "infection", "grade": 2, "serious": false, "onset_date": Utc::now().date_naive(), "outcome": "recovering"}))
        .await;
    let outcome = app
        .post(
            &format!("/v1/treatments/{}/outcomes", p.treatment),
            &a.clinician,
            json!({"assessed_on": Utc::now().date_naive(), "gais": 2, "satisfaction": 8}),
        )
        .await;
    let code = app
        .post(
            &format!("/v1/patients/{}/enrollment-codes", p.id),
            &a.clinician,
            json!(null),
        )
        .await;
    let deliveries = app
        .get(
            &format!("/v1/webhooks/{webhook}/deliveries"),
            &a.clinic.admin,
        )
        .await;
    let clinician = app.get("/v1/me", &a.clinician).await.ok(200)["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(&format!("/v1/staff/{clinician}"), &a.clinic.admin)
        .await;
    let clinician_email = r.ok(200)["email"].as_str().unwrap().to_string();
    app.login(&clinician_email, PASSWORD).await;
    let r = app
        .get(&format!("/v1/staff/{clinician}/sessions"), &a.clinic.admin)
        .await;
    let spare = r.ok(200)["items"].as_array().unwrap().last().unwrap()["id"].clone();
    let push = app
        .post(
            "/v1/push-subscriptions",
            &p.token,
            json!({"endpoint": "https://push.example.net/wpush/v2/first",
                   "keys": {"p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                            "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}),
        )
        .await;
    let (export, export_file) = finished_export(&app, &a.clinic.admin).await;
    let fhir_client = app
        .post(
            "/v1/fhir-clients",
            &a.clinic.admin,
            json!({"name": "Warehouse", "jwks": {"kty": "EC", "crv": "P-384", "kid": "w1",
                "x": "NCk8RAgddixQnNFolOlaIJ7TvPhI7otQY-uFmeCIZJSGJ8B8NXQ3kgQIwJ-MciCH",
                "y": "ZSnvOXhOrQX1YQpC9OGgua5rLbIRsKS8cxBNwZwtT9_BYvul0TfRsSy66m9DX2UE"}}),
        )
        .await;
    let fhir_client = id_of(fhir_client.ok(201));
    let smart_app = app
        .post(
            "/v1/smart-apps",
            &a.clinic.admin,
            json!({"name": "Scar photo analysis", "redirect_uris": ["https://scars.example/cb"],
                   "launch_url": "https://scars.example/launch", "client_type": "public",
                   "scopes": "launch patient/*.rs"}),
        )
        .await;
    let smart_app = id_of(smart_app.ok(201));
    let check_in = receipt["id"].as_str().unwrap();
    let jpeg = crate::photos::sideways_jpeg(64, 32);
    let photo = crate::photos::upload(
        &app,
        &p.token,
        check_in,
        "clinical_use=true",
        "image/jpeg",
        jpeg,
    )
    .await;
    let ids = Ids {
        clinic_items: format!("clinic-{}", a.clinic.id),
        patient: p.id.clone(),
        treatment: p.treatment.clone(),
        protocol: a.protocol.clone(),
        protocol2: app.protocol(&a.clinician, "Face 1.5 mm").await,
        staff: clinician,
        check_in: receipt["id"].as_str().unwrap().to_string(),
        alert: receipt["alerts"][0]["id"].as_str().unwrap().to_string(),
        code_id: id_of(code.ok(201)),
        adverse_event: id_of(adverse.ok(201)),
        outcome: id_of(outcome.ok(201)),
        webhook,
        delivery: deliveries.ok(200)["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        session: spare.as_str().unwrap().to_string(),
        push_subscription: id_of(push.ok(201)),
        export,
        export_file,
        fhir_client,
        smart_app,
        photo: id_of(photo.ok(201)),
    };

    let own = [
        ("a", a.clinic.admin.as_str()),
        ("c", a.clinician.as_str()),
        ("p", p.token.as_str()),
    ];
    let foreign = [
        ("a", b.clinic.admin.as_str()),
        ("c", b.clinician.as_str()),
        ("p", b.patients[0].token.as_str()),
    ];
    let other_patient = a.patients[1].token.as_str();

    let mut operations = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let Some(row) = OPERATIONS
                .iter()
                .find(|o| o.method == method && o.path == path)
            else {
                panic!("{method} {path} has no row in api::OPERATIONS");
            };
            operations.push((method, path.clone(), row.roles, op.clone()));
        }
    }
    assert_eq!(
        operations.len(),
        OPERATIONS.len(),
        "api::OPERATIONS has rows for operations that don't exist"
    );

    let mut wrong = vec![];
    // Strangers first, while every resource is as made; then the clinic's own roles.
    for (method, path, who, op) in &operations {
        let url = fill_path(path, &ids);
        let body = example_body(&doc, op, &ids);
        if *who == "public" {
            wrong.extend(check(&app, method, &url, None, body, "no 5xx", "anyone").await);
            continue;
        }
        // A search (`/fhir/R4/{type}`) answers another clinic with an empty page, not a 404.
        let has_id =
            path.contains('{') && !path.starts_with("/v1/symptoms/") && !path.ends_with("{type}");
        if has_id {
            for (role, token) in foreign {
                let expect = if who.contains(role) { "404" } else { "403" };
                wrong.extend(
                    check(
                        &app,
                        method,
                        &url,
                        Some(token),
                        body.clone(),
                        expect,
                        &format!("{role} of another clinic"),
                    )
                    .await,
                );
            }
            let patients_own = [
                "/v1/patients/",
                "/v1/treatments/",
                "/v1/check-ins/",
                "/v1/push-subscriptions/",
            ]
            .iter()
            .any(|p| path.starts_with(p));
            if who.contains('p') && patients_own {
                wrong.extend(
                    check(
                        &app,
                        method,
                        &url,
                        Some(other_patient),
                        body.clone(),
                        "404",
                        "another patient",
                    )
                    .await,
                );
            }
        }
    }
    // Reads before writes, so that what a write changes doesn't hide what a read should find.
    operations.sort_by_key(|(method, ..)| method != "GET");
    for (method, path, who, op) in &operations {
        if *who == "public" || ENDINGS.contains(&path.as_str()) {
            continue;
        }
        let url = fill_path(path, &ids);
        for (role, token) in own {
            let expect = if who.contains(role) { "allowed" } else { "403" };
            let body = example_body(&doc, op, &ids);
            wrong.extend(check(&app, method, &url, Some(token), body, expect, role).await);
        }
        // No token at all.
        let body = example_body(&doc, op, &ids);
        wrong.extend(check(&app, method, &url, None, body, "401", "nobody").await);
    }
    for ending in ENDINGS {
        let (method, path, who, op) = operations.iter().find(|o| o.1 == ending).unwrap();
        let mut url = fill_path(path, &ids);
        if path.ends_with("/erasure") {
            // The other patient, so that the first one's token still answers 403 below.
            url = url.replace(&p.id, &a.patients[1].id);
        }
        let clinician = app.login(&clinician_email, PASSWORD).await;
        let clinician = clinician["access_token"].as_str().unwrap().to_string();
        let (patient, _) = app.enroll(&clinician, &p.id).await;
        let own = [
            ("p", patient.as_str()),
            ("c", clinician.as_str()),
            ("a", a.clinic.admin.as_str()),
        ];
        for (role, token) in own {
            let expect = if who.contains(role) { "allowed" } else { "403" };
            let body = example_body(&doc, op, &ids);
            wrong.extend(check(&app, method, &url, Some(token), body, expect, role).await);
        }
        let body = example_body(&doc, op, &ids);
        wrong.extend(check(&app, method, &url, None, body, "401", "nobody").await);
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ from api::OPERATIONS:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
