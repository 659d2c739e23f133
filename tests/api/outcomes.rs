use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::*;

fn onset(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn clinicians_record_and_follow_complications() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/treatments/{}/adverse-events", s.patients[0].treatment);
    let body = json!({"term": "Post-inflammatory hyperpigmentation", "grade": 2, "serious": false,
                      "onset_date": onset(1), "outcome": "ongoing"});
    let r = app.post(&path, &s.clinician, body).await;
    let location = r.header("location").unwrap().to_string();
    let event = r.ok(201).clone();
    assert_eq!(event["outcome"], "ongoing");
    assert_eq!(event["patient_id"], s.patients[0].id);

    let r = app
        .patch(
            &location,
            &s.clinician,
            json!({"outcome": "resolved", "notes": "Faded with hydroquinone."}),
        )
        .await;
    assert_eq!(r.ok(200)["outcome"], "resolved");
    assert_eq!(
        app.get(&location, &s.clinician).await.ok(200)["notes"],
        "Faded with hydroquinone."
    );
    assert_eq!(
        app.get(&path, &s.clinician).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let bad = json!({"term": "", "grade": 6, "serious": false, "onset_date": onset(5), "outcome": "ongoing"});
    let r = app.post(&path, &s.clinician, bad).await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["grade", "onset_date", "term"]);
    let bad = json!({"term": "x", "grade": 1, "serious": false, "onset_date": onset(0), "outcome": "gone"});
    app.post(&path, &s.clinician, bad).await.problem(422);
}

#[tokio::test]
async fn complications_are_for_staff_of_the_clinic() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let path = format!("/v1/treatments/{}/adverse-events", s.patients[0].treatment);
    let body = json!({"term": "Infection", "grade": 3, "serious": true, "onset_date": onset(0), "outcome": "recovering"});
    app.post(&path, &s.patients[0].token, body.clone())
        .await
        .problem(403);
    app.post(&path, &other.clinician, body.clone())
        .await
        .problem(404);
    let location = app
        .post(&path, &s.clinician, body)
        .await
        .header("location")
        .unwrap()
        .to_string();
    app.get(&path, &other.clinician).await.problem(404);
    app.get(&location, &other.clinician).await.problem(404);
    app.patch(&location, &other.clinician, json!({"outcome": "resolved"}))
        .await
        .problem(404);
    app.get(&path, &s.patients[0].token).await.problem(403);
}

#[tokio::test]
async fn the_protocol_view_counts_complications_per_hundred_treatments() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await; // two treatments of the protocol
    for (patient, term, grade) in [(0, "PIH", 2), (1, "pih", 2), (1, "Infection", 3)] {
        let path = format!(
            "/v1/treatments/{}/adverse-events",
            s.patients[patient].treatment
        );
        let body = json!({"term": term, "grade": grade, "serious": grade >= 3, "onset_date": onset(0), "outcome": "ongoing"});
        app.post(&path, &s.clinician, body).await.ok(201);
    }
    let view = app
        .get(
            &format!("/v1/protocols/{}/recovery", s.protocol),
            &s.clinician,
        )
        .await;
    assert_eq!(
        view.ok(200)["complications"],
        json!([{"term": "infection", "grade": 3, "count": 1, "per_100_treatments": 50.0},
               {"term": "pih", "grade": 2, "count": 2, "per_100_treatments": 100.0}])
    );
    // Patient 0 is Fitzpatrick 2 like patient 1; a filter that keeps nobody counts nothing.
    let none = app
        .get(
            &format!("/v1/protocols/{}/recovery?fitzpatrick_type=6", s.protocol),
            &s.clinician,
        )
        .await;
    assert_eq!(none.ok(200)["complications"], json!([]));
}

#[tokio::test]
async fn clinicians_and_patients_record_outcomes() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let path = format!("/v1/treatments/{}/outcomes", p.treatment);
    let today = onset(0);
    let r = app
        .post(
            &path,
            &s.clinician,
            json!({"assessed_on": today, "gais": 2, "satisfaction": 8, "goodman_baron": 2}),
        )
        .await;
    let location = r.header("location").unwrap().to_string();
    let created = r.ok(201).clone();
    assert_eq!(created["assessor"], "clinician");
    // Location names the new outcome, which its patient may read too.
    assert_eq!(
        location,
        format!("{path}/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(app.get(&location, &p.token).await.ok(200), &created);
    app.get(&location, &s.patients[1].token).await.problem(404);
    let r = app
        .post(
            &path,
            &p.token,
            json!({"assessed_on": today, "gais": 1, "satisfaction": 7}),
        )
        .await;
    assert_eq!(r.ok(201)["assessor"], "patient");
    assert_eq!(
        app.get(&path, &p.token).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another patient can neither read nor add to them.
    app.get(&path, &s.patients[1].token).await.problem(404);
    app.post(
        &path,
        &s.patients[1].token,
        json!({"assessed_on": today, "gais": 3, "satisfaction": 10}),
    )
    .await
    .problem(404);
    let r = app
        .post(
            &path,
            &s.clinician,
            json!({"assessed_on": onset(9), "gais": 4, "satisfaction": 11, "goodman_baron": 0}),
        )
        .await;
    let mut fields = r.problem(422).clone()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    fields.sort();
    assert_eq!(
        fields,
        ["assessed_on", "gais", "goodman_baron", "satisfaction"]
    );

    // Patient 1 (session 1 as well) adds a patient-rated "worse".
    let other = format!("/v1/treatments/{}/outcomes", s.patients[1].treatment);
    app.post(
        &other,
        &s.patients[1].token,
        json!({"assessed_on": today, "gais": -1, "satisfaction": 2}),
    )
    .await
    .ok(201);
    let summary = app
        .get(
            &format!("/v1/protocols/{}/outcomes", s.protocol),
            &s.clinician,
        )
        .await;
    let summary = summary.ok(200);
    assert_eq!(summary["sessions"][0]["session_number"], 1);
    let assessors = &summary["sessions"][0]["assessors"];
    assert_eq!(assessors[0]["assessor"], "clinician");
    assert_eq!(assessors[0]["n"], 1);
    assert_eq!(assessors[1]["assessor"], "patient");
    assert_eq!(assessors[1]["n"], 2);
    assert_eq!(
        assessors[1]["gais"],
        json!({"-1": 1, "0": 0, "1": 1, "2": 0, "3": 0})
    );
    assert_eq!(assessors[1]["mean_satisfaction"], 4.5);
    assert_eq!(assessors[1]["improved_or_better"], 0.5);
    app.get(&format!("/v1/protocols/{}/outcomes", s.protocol), &p.token)
        .await
        .problem(403);
}

#[tokio::test]
async fn a_second_outcome_for_the_same_day_replaces_the_first() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let path = format!("/v1/treatments/{}/outcomes", p.treatment);
    let today = onset(0);
    let r = app
        .post(
            &path,
            &p.token,
            json!({"assessed_on": today, "gais": 1, "satisfaction": 7}),
        )
        .await;
    let first = r.ok(201).clone();
    let r = app
        .post(
            &path,
            &p.token,
            json!({"assessed_on": today, "gais": 2, "satisfaction": 9}),
        )
        .await;
    assert_eq!(
        r.header("location"),
        Some(format!("{path}/{}", first["id"].as_str().unwrap()).as_str())
    );
    let second = r.ok(200).clone();
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["satisfaction"], 9);
    let items = app.get(&path, &p.token).await.ok(200)["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);
    // The clinician's assessment of the same day is another outcome.
    app.post(
        &path,
        &s.clinician,
        json!({"assessed_on": today, "gais": 2, "satisfaction": 8}),
    )
    .await
    .ok(201);
    // The replacement is in the trail as an update.
    let trail = app
        .get(
            &format!("/v1/audit-events?limit=200&patient_id={}", p.id),
            &s.clinic.admin,
        )
        .await;
    let trail = trail.ok(200)["items"].clone();
    let outcome_actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_type"] == "outcome" && e["actor_id"] == p.id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(outcome_actions, ["list", "update", "create"]);
}

/// The protocol's patient-rated outcomes of first sessions.
async fn patient_rated(app: &TestApp, clinician: &str, protocol: &str) -> serde_json::Value {
    let r = app
        .get(&format!("/v1/protocols/{protocol}/outcomes"), clinician)
        .await;
    r.ok(200)["sessions"][0]["assessors"][0].clone()
}

/// The case: 30 outcome records from one patient took the protocol's mean satisfaction
/// from 5.5 to 0.34. Now each treatment counts once, with its latest assessment.
#[tokio::test]
async fn one_patients_thirty_records_count_once() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let clinician = app.clinician(&clinic).await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let treated = Utc::now() - Duration::days(40);
    let mut patients = vec![];
    for (n, satisfaction) in [(0, 5), (1, 6)] {
        let id = app.patient(&clinician, &format!("MRN-{n}")).await;
        let treatment = app.treatment(&clinician, &id, &protocol, treated).await;
        let (token, _) = app.enroll(&clinician, &id).await;
        let path = format!("/v1/treatments/{treatment}/outcomes");
        let body = json!({"assessed_on": onset(31), "gais": 1, "satisfaction": satisfaction});
        app.post(&path, &token, body).await.ok(201);
        patients.push((path, token));
    }
    let before = patient_rated(&app, &clinician, &protocol).await;
    assert_eq!(
        (before["n"].clone(), before["mean_satisfaction"].clone()),
        (json!(2), json!(5.5))
    );

    // The first patient rates 0, thirty times, on thirty days (and again on one of them).
    let (path, token) = &patients[0];
    for days_ago in 0..30 {
        let body = json!({"assessed_on": onset(days_ago), "gais": -1, "satisfaction": 0});
        app.post(path, token, body).await;
    }
    let body = json!({"assessed_on": onset(0), "gais": -1, "satisfaction": 0});
    app.post(path, token, body).await.ok(200);
    let stored = app.get(path, token).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(stored, 31);
    // Two treatments still: the first patient's latest rating (0) beside the other's (6).
    let after = patient_rated(&app, &clinician, &protocol).await;
    assert_eq!(after["n"], 2);
    assert_eq!(after["mean_satisfaction"], 3.0);
}
