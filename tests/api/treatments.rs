use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

fn treatment(protocol: &str) -> Value {
    json!({"protocol_id": protocol, "performed_at": Utc::now() - Duration::hours(1), "contraindications": no_contraindications()})
}

#[tokio::test]
async fn a_treatment_takes_the_protocols_defaults_and_counts_sessions() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/patients/{}/treatments", s.patients[0].id);
    let r = app.post(&path, &s.clinician, treatment(&s.protocol)).await;
    assert!(r.header("location").unwrap().starts_with("/v1/treatments/"));
    let t = r.ok(201);
    assert_eq!(t["needle_depth_mm"], 1.0);
    assert_eq!(t["areas"], json!(["face"]));
    // The scenario's treatment two days ago was session 1.
    assert_eq!(t["session_number"], 2);
    assert_eq!(t["contraindications"]["pregnancy"], false);

    let mut custom = treatment(&s.protocol);
    custom["needle_depth_mm"] = json!(0.5);
    custom["areas"] = json!(["neck", "face", "neck"]);
    custom["session_number"] = json!(1);
    let t = app.post(&path, &s.clinician, custom).await;
    assert_eq!(t.ok(201)["needle_depth_mm"], 0.5);
    assert_eq!(t.body["areas"], json!(["face", "neck"]));
    assert_eq!(t.body["session_number"], 1);
}

#[tokio::test]
async fn a_contraindication_needs_an_override_reason() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/patients/{}/treatments", s.patients[0].id);
    let mut body = treatment(&s.protocol);
    body["contraindications"]["active_acne"] = json!(true);
    let r = app.post(&path, &s.clinician, body.clone()).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "override_reason");
    body["override_reason"] = json!("   ");
    app.post(&path, &s.clinician, body.clone())
        .await
        .problem(422);
    body["override_reason"] =
        json!("Acne is outside the treated area; discussed with the patient.");
    let t = app.post(&path, &s.clinician, body).await;
    assert_eq!(t.ok(201)["contraindications"]["active_acne"], true);
}

#[tokio::test]
async fn every_contraindication_must_be_answered_with_a_known_code() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/patients/{}/treatments", s.patients[0].id);
    let mut body = treatment(&s.protocol);
    body["contraindications"] = json!({"pregnancy": false});
    let r = app.post(&path, &s.clinician, body.clone()).await;
    assert_eq!(r.problem(422)["errors"].as_array().unwrap().len(), 7);
    body["contraindications"] = no_contraindications();
    body["contraindications"]["smoking"] = json!(false);
    assert_eq!(
        app.post(&path, &s.clinician, body.clone())
            .await
            .problem(422)["errors"][0]["field"],
        "contraindications"
    );
    body["contraindications"] = no_contraindications();
    body["areas"] = json!(["knees"]);
    app.post(&path, &s.clinician, body.clone())
        .await
        .problem(422);
    body["areas"] = json!(["face"]);
    body["performed_at"] = json!(Utc::now() + Duration::days(1));
    assert_eq!(
        app.post(&path, &s.clinician, body).await.problem(422)["errors"][0]["field"],
        "performed_at"
    );
}

#[tokio::test]
async fn treatments_stay_inside_their_clinic_and_patient() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let mine = format!("/v1/patients/{}/treatments", s.patients[0].id);
    // Another clinic's protocol can't be used; another clinic's patient can't be treated.
    let r = app
        .post(&mine, &s.clinician, treatment(&other.protocol))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "protocol_id");
    app.post(&mine, &other.clinician, treatment(&other.protocol))
        .await
        .problem(404);
    app.post(&mine, &s.patients[0].token, treatment(&s.protocol))
        .await
        .problem(403);

    let one = format!("/v1/treatments/{}", s.patients[0].treatment);
    assert_eq!(
        app.get(&one, &s.patients[0].token).await.ok(200)["id"],
        s.patients[0].treatment
    );
    app.get(&one, &s.patients[1].token).await.problem(404);
    app.get(&one, &other.clinician).await.problem(404);
    let list = app.get(&mine, &s.patients[0].token).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
    app.get(&mine, &s.patients[1].token).await.problem(404);
    app.get(&mine, &other.clinician).await.problem(404);
    app.get(&format!("{one}/schedule"), &other.patients[0].token)
        .await
        .problem(404);
}

#[tokio::test]
async fn the_schedule_marks_done_missed_and_coming_days() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    // The treatment was two days ago: check in today only (day 2).
    let today = CheckIn::new(&p.treatment, Utc::now(), json!({"redness": 1}));
    app.check_in(&p.token, &today).await.ok(201);
    let r = app
        .get(
            &format!("/v1/treatments/{}/schedule", p.treatment),
            &p.token,
        )
        .await;
    let schedule = r.ok(200);
    assert_eq!(schedule["timezone"], "Europe/Berlin");
    // The patient reads the protocol's name and aftercare instructions here.
    assert_eq!(schedule["protocol_name"], "Face 1.0 mm");
    assert_eq!(schedule["aftercare_instructions"], "");
    let days = schedule["days"].as_array().unwrap();
    assert_eq!(days.len(), 17);
    let status = |day: usize| days[day]["status"].as_str().unwrap().to_string();
    assert_eq!(days[2]["day"], 2);
    assert!(days[2]["done"].as_bool().unwrap());
    assert_eq!(status(2), "done");
    assert_eq!(status(3), "upcoming");
    assert_eq!(days[16]["day"], 28);
    // Days 0 and 1 passed without a check-in (day 0 may still be today near midnight in Berlin).
    assert_eq!(status(1), "missed");
    let clinician_view = app
        .get(
            &format!("/v1/treatments/{}/schedule", p.treatment),
            &s.clinician,
        )
        .await;
    assert_eq!(clinician_view.ok(200)["days"], schedule["days"]);
}
