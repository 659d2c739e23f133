//! The FHIR R4 API: every resource type it serves passes an independent validator (Python's
//! fhir.resources R4 models, R4's invariants in fhirpathpy and our CodeSystems, tests/fhir/validate.py), counts equal what the REST API holds, `_lastUpdated`
//! finds only what changed, clinic B never sees clinic A, and failures are OperationOutcomes.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

pub const KINDS: [&str; 7] = [
    "Patient",
    "Procedure",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "AdverseEvent",
    "Group",
];

/// The validator's Python (tests/fhir/install makes it), or None when it is missing and the
/// validation may be skipped (only outside CI: AFTERCARE_FHIR_TEST=required makes it a failure).
fn validator() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let python = std::path::Path::new(&home).join(".cache/aftercare/fhir-r4-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var("AFTERCARE_FHIR_TEST").as_deref() == Ok("required") {
        panic!("{} is missing: run tests/fhir/install", python.display());
    }
    eprintln!("skipping FHIR validation: run tests/fhir/install to set up the validator");
    None
}

/// Asserts that the validator accepts every resource, its codes checked against the CodeSystems
/// the app publishes to `token`'s clinic.
pub async fn assert_valid(app: &TestApp, token: &str, resources: &[Value]) {
    let codes = search_all(app, token, "CodeSystem").await;
    assert_valid_with(resources, &codes).await;
}

/// Asserts that the validator accepts every resource (a JSON resource per line), with these
/// CodeSystems published.
pub async fn assert_valid_with(resources: &[Value], code_systems: &[Value]) {
    if let Some((ok, printed)) = validate(resources, code_systems).await {
        assert!(ok, "the FHIR validator refused:\n{printed}");
    }
}

/// The validator's verdict and what it printed; None when it is missing (outside CI).
async fn validate(resources: &[Value], code_systems: &[Value]) -> Option<(bool, String)> {
    let python = validator()?;
    let ndjson: String = resources.iter().map(|r| format!("{r}\n")).collect();
    let codes: String = code_systems.iter().map(|r| format!("{r}\n")).collect();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir/validate.py");
        let file = std::env::temp_dir().join(format!("aftercare-codes-{}", uuid::Uuid::new_v4()));
        std::fs::write(&file, codes).expect("write the CodeSystems");
        let mut child = std::process::Command::new(python)
            .arg(script)
            .arg("--codes")
            .arg(&file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run the validator");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(ndjson.as_bytes()).expect("write");
        drop(stdin);
        let out = child.wait_with_output().expect("the validator's answer");
        let _ = std::fs::remove_file(&file);
        out
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    Some((out.status.success(), printed))
}

#[tokio::test]
async fn the_validator_refuses_what_r4_its_invariants_and_our_code_systems_refuse() {
    let answer = json!({"resourceType": "CodeSystem", "url": "https://aftercare.dev/fhir/CodeSystem/answer",
        "status": "active", "content": "complete", "concept": [{"code": "mild", "display": "Mild"}]});
    let coded = |code: &str, display: &str| {
        json!({"resourceType": "Observation", "status": "final",
        "code": {"text": "x"}, "valueCodeableConcept": {"coding": [{"system":
        "https://aftercare.dev/fhir/CodeSystem/answer", "code": code, "display": display}]}})
    };
    let codes = std::slice::from_ref(&answer);
    let Some((ok, printed)) = validate(&[coded("mild", "Mild")], codes).await else {
        return;
    };
    assert!(ok, "{printed}");
    let refused = [
        // An element R4 does not have.
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "focus2": []}),
        // obs-6: a value and the reason it is absent.
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
               "valueInteger": 1, "dataAbsentReason": {"text": "asked"}}),
        // que-2: a linkId twice.
        json!({"resourceType": "Questionnaire", "status": "active",
               "item": [{"linkId": "a", "type": "string"}, {"linkId": "a", "type": "string"}]}),
        // A code our CodeSystem does not have, and one of its codes with another display.
        coded("awful", "Awful"),
        coded("mild", "Mildish"),
    ];
    for bad in refused {
        let (ok, printed) = validate(std::slice::from_ref(&bad), codes).await.unwrap();
        assert!(!ok, "accepted {bad}: {printed}");
    }
}

/// Every resource of a search, following its `next` links.
pub async fn search_all(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut url = format!("/fhir/R4/{query}");
    let mut all = vec![];
    loop {
        let r = app.get(&url, token).await;
        assert_eq!(r.header("content-type"), Some("application/fhir+json"));
        let bundle = r.ok(200);
        assert_eq!(bundle["type"], "searchset");
        for e in bundle["entry"].as_array().unwrap() {
            all.push(e["resource"].clone());
        }
        let next = bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next");
        match next {
            Some(l) => url = l["url"].as_str().unwrap().replace(&app.base, ""),
            None => return all,
        }
    }
}

/// A clinic with two patients' check-ins (scores, aftercare answers, a note), a complication and
/// outcomes rated by the clinician and by the patient.
pub async fn clinic_with_data(app: &TestApp, name: &str) -> Scenario {
    let s = app.scenario(name).await;
    for (n, p) in s.patients.iter().enumerate() {
        for day in 0..2 {
            let at = s.performed_at + Duration::days(day) + Duration::hours(2);
            let c = CheckIn::new(
                &p.treatment,
                at,
                json!({"redness": 2, "pain": 1, "fever": 0, "bruising": n}),
            )
            .aftercare(json!({"sunscreen": true, "sun_exposure": false}))
            .note("a little tight");
            app.check_in(&p.token, &c).await.ok(201);
        }
    }
    let p = &s.patients[0];
    let today = Utc::now().date_naive();
    app.post(
        &format!("/v1/treatments/{}/adverse-events", p.treatment),
        &s.clinician,
        json!({"term": "post-inflammatory hyperpigmentation", "grade": 2, "serious": false,
               "onset_date": today, "outcome": "recovering"}),
    )
    .await
    .ok(201);
    let outcomes = format!("/v1/treatments/{}/outcomes", p.treatment);
    app.post(
        &outcomes,
        &s.clinician,
        json!({"assessed_on": today, "gais": 2, "satisfaction": 8, "goodman_baron": 2}),
    )
    .await
    .ok(201);
    app.post(
        &outcomes,
        &p.token,
        json!({"assessed_on": today, "gais": 3, "satisfaction": 9}),
    )
    .await
    .ok(201);
    s
}

#[tokio::test]
async fn every_resource_type_validates_and_counts_equal_the_rest_apis() {
    let app = spawn_app().await;
    let s = clinic_with_data(&app, "Lumen").await;
    let token = &s.clinician;
    let mut everything = vec![];
    let mut counts = std::collections::HashMap::new();
    for kind in KINDS {
        let found = search_all(&app, token, &format!("{kind}?_count=3")).await;
        assert!(!found.is_empty(), "no {kind}");
        // The pages (by cursor, three at a time: a check-in's four scores span two) hold each
        // resource once.
        let ids: std::collections::HashSet<&str> =
            found.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(ids.len(), found.len(), "{kind}");
        // A cursor and an offset together: after the first resource, all but the last skipped.
        if found.len() >= 3 {
            let first = app.get(&format!("/fhir/R4/{kind}?_count=1"), token).await;
            let next = first.ok(200)["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == "next")
                .map(|l| l["url"].as_str().unwrap().replace(&app.base, ""))
                .unwrap();
            let skip = found.len() - 2;
            let skipped = next.replace("_count=1", &format!("_count=2&_offset={skip}"));
            let page = app.get(&skipped, token).await;
            let got: Vec<&Value> = page.ok(200)["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| &e["resource"]["id"])
                .collect();
            let want: Vec<&Value> = found[skip + 1..].iter().map(|r| &r["id"]).collect();
            assert_eq!(got, want, "{kind}: {skipped}");
        }
        // Each one reads back as the search showed it.
        let first = &found[0];
        let read = app
            .get(
                &format!("/fhir/R4/{kind}/{}", first["id"].as_str().unwrap()),
                token,
            )
            .await;
        assert_eq!(read.ok(200)["id"], first["id"]);
        counts.insert(kind, found.len());
        everything.extend(found);
    }
    let metadata = app
        .request(reqwest::Method::GET, "/fhir/R4/metadata", None, None)
        .await;
    everything.push(metadata.ok(200).clone());
    let bundle = app.get("/fhir/R4/Observation?_count=2", token).await;
    everything.push(bundle.ok(200).clone());
    assert_valid(&app, token, &everything).await;

    // What the REST API holds.
    let patients = app.get("/v1/patients?limit=200", token).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .len();
    let mut check_ins = 0;
    let mut scores = 0;
    for p in &s.patients {
        let list = app
            .get(&format!("/v1/patients/{}/check-ins?limit=200", p.id), token)
            .await;
        for c in list.ok(200)["items"].as_array().unwrap() {
            check_ins += 1;
            scores += c["scores"].as_object().unwrap().len();
        }
    }
    // GAIS and satisfaction twice, Goodman & Baron once.
    let outcome_values = 5;
    assert_eq!(counts["Patient"], patients);
    assert_eq!(counts["Procedure"], s.patients.len());
    assert_eq!(counts["QuestionnaireResponse"], check_ins);
    assert_eq!(counts["Observation"], scores + outcome_values);
    assert_eq!(counts["AdverseEvent"], 1);
    assert_eq!(counts["Questionnaire"], 1);
    assert_eq!(counts["Group"], 1);
}

#[tokio::test]
async fn a_patients_resources_carry_the_record_number_and_coded_answers() {
    let app = spawn_app().await;
    let s = clinic_with_data(&app, "Lumen").await;
    let p = &s.patients[0];
    let patient = app
        .get(&format!("/fhir/R4/Patient/{}", p.id), &s.clinician)
        .await;
    let identifier = &patient.ok(200)["identifier"][0];
    assert_eq!(identifier["value"], "MRN-0");
    assert_eq!(
        identifier["system"],
        format!("urn:aftercare:clinic:{}:record-number", s.clinic.id)
    );

    let observations = search_all(
        &app,
        &s.clinician,
        &format!("Observation?patient=Patient/{}", p.id),
    )
    .await;
    assert!(
        observations
            .iter()
            .all(|o| o["subject"]["reference"] == format!("Patient/{}", p.id))
    );
    let redness = observations
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "redness")
        .unwrap();
    // The item in our code system only; the answer coded from the scale, its grade kept.
    assert_eq!(redness["code"]["coding"].as_array().unwrap().len(), 1);
    let answer = &redness["valueCodeableConcept"]["coding"][0];
    assert_eq!(answer["code"], "moderate");
    assert_eq!(answer["extension"][0]["valueDecimal"], 2);
    assert_eq!(
        redness["partOf"][0]["reference"],
        format!("Procedure/{}", p.treatment)
    );
    assert!(redness.get("focus").is_none());
    let fever = observations
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "fever")
        .unwrap();
    assert_eq!(fever["valueCodeableConcept"]["coding"][0]["code"], "no");
    let gais: Vec<&Value> = observations
        .iter()
        .filter(|o| o["code"]["coding"][0]["code"] == "gais")
        .collect();
    assert_eq!(gais.len(), 2);

    let event = &search_all(&app, &s.clinician, "AdverseEvent").await[0];
    assert_eq!(event["extension"][0]["valueInteger"], 2);
    assert_eq!(event["outcome"]["coding"][0]["code"], "recovering");
    let procedure = app
        .get(&format!("/fhir/R4/Procedure/{}", p.treatment), &s.clinician)
        .await;
    let procedure = procedure.ok(200);
    assert_eq!(procedure["bodySite"][0]["coding"][0]["code"], "face");
    // SNOMED CT beside ours: the body structure.
    assert_eq!(procedure["bodySite"][0]["coding"][1]["code"], "89545001");
    assert_eq!(procedure["code"]["text"], "Face 1.0 mm");
}

#[tokio::test]
async fn last_updated_finds_only_what_changed() {
    let app = spawn_app().await;
    let s = clinic_with_data(&app, "Lumen").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let query = |kind: &str| format!("{kind}?_lastUpdated=gt{}", since.replace('+', "%2B"));
    for kind in KINDS {
        let changed = search_all(&app, &s.clinician, &query(kind)).await;
        assert!(changed.is_empty(), "{kind}: {changed:?}");
    }
    let p = &s.patients[1];
    app.patch(
        &format!("/v1/patients/{}", p.id),
        &s.clinician,
        json!({"display_name": "Ada"}),
    )
    .await
    .ok(200);
    let c = CheckIn::new(&p.treatment, Utc::now(), json!({"redness": 1}));
    app.check_in(&p.token, &c).await.ok(201);

    let patients = search_all(&app, &s.clinician, &query("Patient")).await;
    assert_eq!(patients.len(), 1);
    assert_eq!(patients[0]["id"], p.id.as_str());
    assert_eq!(patients[0]["name"][0]["text"], "Ada");
    let responses = search_all(&app, &s.clinician, &query("QuestionnaireResponse")).await;
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["id"], c.id.to_string());
    let observations = search_all(&app, &s.clinician, &query("Observation")).await;
    assert_eq!(observations.len(), 1);
    // The nearest case that must not match: before the change.
    let before = format!("Patient?_lastUpdated=lt{}", since.replace('+', "%2B"));
    assert_eq!(search_all(&app, &s.clinician, &before).await.len(), 1);
}

#[tokio::test]
async fn clinic_b_never_sees_clinic_a() {
    let app = spawn_app().await;
    let a = clinic_with_data(&app, "Lumen").await;
    let b = app.scenario("Other").await;
    let p = &a.patients[0];
    for (kind, id) in [
        ("Patient", &p.id),
        ("Procedure", &p.treatment),
        ("Group", &a.protocol),
    ] {
        let r = app
            .get(&format!("/fhir/R4/{kind}/{id}"), &b.clinic.admin)
            .await;
        assert_eq!(r.status, 404, "{kind}");
        assert_eq!(r.body["resourceType"], "OperationOutcome");
        assert_eq!(r.body["issue"][0]["code"], "not-found");
    }
    let questionnaire = app
        .get(
            &format!("/fhir/R4/Questionnaire/{}", a.clinic.id),
            &b.clinician,
        )
        .await;
    assert_eq!(questionnaire.status, 404);
    let observation = &search_all(&app, &a.clinician, "Observation").await[0];
    let r = app
        .get(
            &format!(
                "/fhir/R4/Observation/{}",
                observation["id"].as_str().unwrap()
            ),
            &b.clinician,
        )
        .await;
    assert_eq!(r.status, 404);
    for kind in KINDS {
        // Each type by its own patient parameter; Questionnaire and Group have none.
        let query = match kind {
            "Patient" => format!("{kind}?_id={}", p.id),
            "AdverseEvent" => format!("{kind}?subject={}", p.id),
            "Questionnaire" | "Group" => kind.to_string(),
            _ => format!("{kind}?patient={}", p.id),
        };
        let theirs = search_all(&app, &b.clinic.admin, &query).await;
        assert!(
            theirs.iter().all(|r| !r.to_string().contains(&p.id)),
            "{kind}"
        );
        let all = search_all(&app, &b.clinic.admin, kind).await;
        assert!(
            all.iter()
                .all(|r| !r.to_string().contains(&a.clinic.id.to_string())),
            "{kind}"
        );
        assert!(all.iter().all(|r| !r.to_string().contains(&p.id)), "{kind}");
    }
}

#[tokio::test]
async fn failures_are_operation_outcomes_and_reads_are_audited() {
    let app = spawn_app().await;
    let s = clinic_with_data(&app, "Lumen").await;
    let p = &s.patients[0];
    let path = format!("/fhir/R4/Patient/{}", p.id);
    let anonymous = app.request(reqwest::Method::GET, &path, None, None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        anonymous.header("content-type"),
        Some("application/fhir+json")
    );
    assert_eq!(anonymous.body["issue"][0]["code"], "login");
    // A patient reads their own data through /v1, not FHIR.
    let patient = app.get(&path, &p.token).await;
    assert_eq!(patient.status, 403);
    assert_eq!(patient.body["issue"][0]["code"], "forbidden");
    let mut outcomes = vec![anonymous.body, patient.body];
    for bad in [
        "Patient?_count=0",
        "Observation?_lastUpdated=2026-11-31",
        "Procedure?patient=Patient/42",
        "Observation?_cursor=forged",
    ] {
        let r = app.get(&format!("/fhir/R4/{bad}"), &s.clinician).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.body["issue"][0]["code"], "invalid");
        outcomes.push(r.body);
    }
    let unknown = app.get("/fhir/R4/Medication", &s.clinician).await;
    assert_eq!(unknown.status, 404);
    outcomes.push(unknown.body);
    assert_valid(&app, &s.clinician, &outcomes).await;

    app.get(&path, &s.clinic.admin).await.ok(200);
    let trail = app
        .get(
            &format!("/v1/audit-events?patient_id={}", p.id),
            &s.clinic.admin,
        )
        .await;
    let reads: Vec<&Value> = trail.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_type"] == "fhir_resource")
        .collect();
    assert!(
        reads
            .iter()
            .any(|e| e["action"] == "read" && e["outcome"] == "success"),
        "{reads:?}"
    );
}
