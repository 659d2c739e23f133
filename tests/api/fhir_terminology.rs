//! Aftercare's code systems over FHIR: every code the service sends resolves through
//! `/fhir/R4/CodeSystem/$lookup` with the display it was sent with; the CodeSystems and ValueSets
//! read and search by url, a clinic's own items are its own; and the Questionnaire has a version
//! per change to the items, which old responses keep naming.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::fhir::{KINDS, assert_valid, clinic_with_data, search_all};
use crate::helpers::*;

const OURS: &str = "https://aftercare.dev/fhir/";

/// The codings anywhere in a resource: every object with a `system` and a `code`.
fn codings<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if o.contains_key("system") && o.contains_key("code") {
                out.push(v);
            }
            o.values().for_each(|c| codings(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| codings(c, out)),
        _ => {}
    }
}

/// The external codes the service sends, each checked against its published source (README).
const EXTERNAL: [&str; 16] = [
    "http://terminology.hl7.org/CodeSystem/observation-category|survey",
    "http://terminology.hl7.org/CodeSystem/observation-category|exam",
    "http://terminology.hl7.org/CodeSystem/v2-0203|MR",
    "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness|non-serious",
    "http://terminology.hl7.org/CodeSystem/adverse-event-severity|moderate",
    "http://terminology.hl7.org/CodeSystem/adverse-event-outcome|recovering",
    "http://unitsofmeasure.org|mm",
    "http://snomed.info/sct|89545001",
    "http://snomed.info/sct|45048000",
    "http://snomed.info/sct|41695006",
    "http://snomed.info/sct|85562004",
    "http://terminology.hl7.org/CodeSystem/restful-security-service|SMART-on-FHIR",
    "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness|serious",
    "http://terminology.hl7.org/CodeSystem/adverse-event-severity|mild",
    "http://terminology.hl7.org/CodeSystem/adverse-event-severity|severe",
    "http://terminology.hl7.org/CodeSystem/adverse-event-outcome|resolved",
];

#[tokio::test]
async fn every_code_the_service_sends_resolves_through_its_code_systems() {
    let app = spawn_app().await;
    let s = clinic_with_data(&app, "Lumen").await;
    let p = &s.patients[0];
    let item = json!({"code": "tightness", "label": "Tight skin", "kind": "presence"});
    app.post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .ok(201);
    let c = CheckIn::new(
        &p.treatment,
        Utc::now(),
        json!({"tightness": 1, "redness": 4}),
    );
    app.check_in(&p.token, &c).await.ok(201);

    let mut resources = vec![];
    for kind in KINDS {
        resources.extend(search_all(&app, &s.clinician, kind).await);
    }
    let metadata = app
        .request(reqwest::Method::GET, "/fhir/R4/metadata", None, None)
        .await;
    resources.push(metadata.ok(200).clone());
    let mut all = vec![];
    for r in &resources {
        codings(r, &mut all);
    }
    let mut ours = BTreeSet::new();
    for coding in all {
        let (system, code) = (
            coding["system"].as_str().unwrap(),
            coding["code"].as_str().unwrap(),
        );
        if !system.starts_with(OURS) {
            let key = format!("{system}|{code}");
            assert!(
                EXTERNAL.contains(&key.as_str()),
                "an unchecked external code: {key}"
            );
            continue;
        }
        if !ours.insert((
            system.to_string(),
            code.to_string(),
            coding["display"].to_string(),
        )) {
            continue;
        }
        let url = format!(
            "/fhir/R4/CodeSystem/$lookup?system={}&code={code}",
            urlencode(system)
        );
        let found = app.get(&url, &s.clinician).await;
        let found = found.ok(200);
        if let Some(display) = coding["display"].as_str() {
            assert_eq!(
                found["parameter"][2]["valueString"], display,
                "{system}|{code}"
            );
        }
    }
    // The symptoms of both kinds, their answers, the clinic's own item, the aftercare questions,
    // the procedure, the area, the outcomes and the assessors.
    let systems: BTreeSet<&str> = ours.iter().map(|(s, _, _)| s.as_str()).collect();
    let clinic_items = format!("{OURS}CodeSystem/clinic-{}", s.clinic.id);
    for name in [
        "symptom",
        "answer",
        "aftercare-question",
        "procedure",
        "area",
        "outcome",
        "assessor",
    ] {
        assert!(
            systems.contains(format!("{OURS}CodeSystem/{name}").as_str()),
            "{name}"
        );
    }
    assert!(systems.contains(clinic_items.as_str()));
    let answers: BTreeSet<&str> = ours
        .iter()
        .filter(|(s, _, _)| s.ends_with("/answer"))
        .map(|(_, c, _)| c.as_str())
        .collect();
    assert!(answers.is_superset(&BTreeSet::from(["no", "yes", "very-severe", "moderate"])));

    // A code that is not there is not found; one from another system is not ours.
    let missing = format!(
        "/fhir/R4/CodeSystem/$lookup?system={}&code=glow",
        urlencode(&format!("{OURS}CodeSystem/symptom"))
    );
    app.get(&missing, &s.clinician).await.ok(404);
    let url = format!(
        "/fhir/R4/CodeSystem/$lookup?system={}&code=tightness",
        urlencode(&clinic_items)
    );
    let tight = app.get(&url, &s.clinician).await;
    assert_eq!(tight.ok(200)["parameter"][2]["valueString"], "Tight skin");
}

#[tokio::test]
async fn code_systems_and_value_sets_read_and_search_by_url_and_a_clinics_items_are_its_own() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let item = json!({"code": "tightness", "label": "Tight skin", "kind": "severity"});
    app.post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .ok(201);

    let systems = search_all(&app, &s.clinician, "CodeSystem").await;
    assert_eq!(systems.len(), 8);
    let answer = app.get("/fhir/R4/CodeSystem/answer", &s.clinician).await;
    let answer = answer.ok(200).clone();
    assert_eq!(answer["url"], format!("{OURS}CodeSystem/answer"));
    assert_eq!(answer["concept"][3]["designation"][0]["value"], "Stark");
    let by_url = search_all(
        &app,
        &s.clinician,
        &format!(
            "CodeSystem?url={}",
            urlencode(&format!("{OURS}CodeSystem/answer"))
        ),
    )
    .await;
    assert_eq!(by_url, vec![answer.clone()]);
    assert!(
        search_all(&app, &s.clinician, "CodeSystem?url=http://example.org/x")
            .await
            .is_empty()
    );

    let mine = format!("clinic-{}", s.clinic.id);
    let own = app
        .get(&format!("/fhir/R4/CodeSystem/{mine}"), &s.clinician)
        .await;
    let own = own.ok(200).clone();
    assert_eq!(own["concept"][0]["code"], "tightness");
    // Another clinic's items are not found by its staff, nor in its searches.
    app.get(&format!("/fhir/R4/CodeSystem/{mine}"), &other.clinician)
        .await
        .ok(404);
    let theirs = search_all(&app, &other.clinician, "CodeSystem").await;
    assert!(theirs.iter().all(|c| c["id"] != mine.as_str()));

    let vs = app.get("/fhir/R4/ValueSet/area", &s.clinician).await;
    let vs = vs.ok(200).clone();
    assert_eq!(
        vs["compose"]["include"][0]["system"],
        format!("{OURS}CodeSystem/area")
    );
    let values = search_all(&app, &s.clinician, "ValueSet").await;
    assert_eq!(values.len(), 8);
    app.get("/fhir/R4/ValueSet/nothing", &s.clinician)
        .await
        .ok(404);

    let check = |url: &str, code: &str, display: &str| {
        format!(
            "/fhir/R4/CodeSystem/$validate-code?url={}&code={code}&display={}",
            urlencode(url),
            urlencode(display)
        )
    };
    let area = format!("{OURS}CodeSystem/area");
    let good = app
        .get(&check(&area, "face", "Gesicht"), &s.clinician)
        .await;
    assert_eq!(good.ok(200)["parameter"][0]["valueBoolean"], true);
    let bad = app.get(&check(&area, "face", "Neck"), &s.clinician).await;
    assert_eq!(bad.ok(200)["parameter"][0]["valueBoolean"], false);
    // Failures are OperationOutcomes: a missing code, an unknown parameter.
    let r = app
        .get("/fhir/R4/CodeSystem/$lookup?system=x", &s.clinician)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
    let r = app.get("/fhir/R4/CodeSystem?name=x", &s.clinician).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
    // _count is bounded as the other searches' is; $validate-code needs its url.
    for path in [
        "/fhir/R4/CodeSystem?_count=201",
        "/fhir/R4/ValueSet?_count=0",
        "/fhir/R4/CodeSystem/$validate-code?code=severe",
    ] {
        let r = app.get(path, &s.clinician).await;
        assert_eq!(r.status, 400, "{path}");
    }
    app.get("/fhir/R4/ValueSet?_count=200", &s.clinician)
        .await
        .ok(200);
    // An empty system names none: the code is found nowhere.
    let r = app
        .get(
            "/fhir/R4/CodeSystem/$lookup?system=&code=severe",
            &s.clinician,
        )
        .await;
    assert_eq!(r.status, 404);
    // Patients read FHIR through /v1 only.
    app.get("/fhir/R4/CodeSystem/answer", &s.patients[0].token)
        .await
        .ok(403);

    let mut all = systems;
    all.extend(values);
    all.push(own);
    assert_valid(&app, &s.clinician, &all).await;
}

#[tokio::test]
async fn a_change_to_the_items_makes_a_new_version_that_old_responses_still_name() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let url = format!("{OURS}Questionnaire/check-in-{}", s.clinic.id);
    let before = CheckIn::new(
        &p.treatment,
        Utc::now() - Duration::hours(1),
        json!({"redness": 1}),
    );
    app.check_in(&p.token, &before).await.ok(201);
    let v1 = search_all(&app, &s.clinician, "Questionnaire").await;
    assert_eq!(v1.len(), 1);
    assert_eq!(v1[0]["version"], "1");
    assert_eq!(v1[0]["status"], "active");

    let item = json!({"code": "tightness", "label": "Tight skin", "kind": "presence"});
    app.post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .ok(201);
    let after = CheckIn::new(&p.treatment, Utc::now(), json!({"tightness": 1}));
    app.check_in(&p.token, &after).await.ok(201);

    let versions = search_all(&app, &s.clinician, "Questionnaire").await;
    let named: Vec<(&Value, &Value)> = versions
        .iter()
        .map(|q| (&q["version"], &q["status"]))
        .collect();
    assert_eq!(
        named,
        [
            (&json!("1"), &json!("retired")),
            (&json!("2"), &json!("active"))
        ]
    );
    assert_eq!(versions[0]["url"], url.as_str());
    let items = |q: &Value| {
        q["item"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["linkId"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(!items(&versions[0]).contains(&"tightness".to_string()));
    assert!(items(&versions[1]).contains(&"tightness".to_string()));
    // German on each default item and question, coded answers.
    let redness = &versions[1]["item"][0];
    assert_eq!(
        redness["_text"]["extension"][0]["extension"][1]["valueString"],
        "Rötung der behandelten Haut"
    );
    assert_eq!(redness["answerOption"][0]["valueCoding"]["code"], "none");

    // The old response still names version 1; the new one version 2.
    let old = app
        .get(
            &format!("/fhir/R4/QuestionnaireResponse/{}", before.id),
            &s.clinician,
        )
        .await;
    assert_eq!(old.ok(200)["questionnaire"], format!("{url}|1"));
    let new = app
        .get(
            &format!("/fhir/R4/QuestionnaireResponse/{}", after.id),
            &s.clinician,
        )
        .await;
    let new = new.ok(200).clone();
    assert_eq!(new["questionnaire"], format!("{url}|2"));
    assert_eq!(new["item"][0]["answer"][0]["valueCoding"]["code"], "yes");

    // Found by url and version, and read by id.
    for query in [
        format!("url={}%7C1", urlencode(&url)),
        format!("url={}&version=1", urlencode(&url)),
        "version=1".into(),
    ] {
        let found = search_all(&app, &s.clinician, &format!("Questionnaire?{query}")).await;
        assert_eq!(found, vec![versions[0].clone()], "{query}");
    }
    assert!(
        search_all(&app, &s.clinician, "Questionnaire?version=3")
            .await
            .is_empty()
    );
    let id = versions[0]["id"].as_str().unwrap();
    let read = app
        .get(&format!("/fhir/R4/Questionnaire/{id}"), &s.clinician)
        .await;
    assert_eq!(read.ok(200), &versions[0]);
    let other = app.scenario("Other").await;
    app.get(&format!("/fhir/R4/Questionnaire/{id}"), &other.clinician)
        .await
        .ok(404);
    let mut all = versions.clone();
    all.push(new);
    assert_valid(&app, &s.clinician, &all).await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
