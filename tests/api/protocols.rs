use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_protocol_gets_the_default_schedule() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let r = app
        .get(&format!("/v1/protocols/{}", s.protocol), &s.clinician)
        .await;
    let p = r.ok(200);
    let days: Vec<i64> = p["check_in_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect();
    assert_eq!(
        days,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28]
    );
    assert_eq!(p["procedure"], "microneedling");
    assert_eq!(p["areas"], json!(["face"]));
    // No photo is asked for unless the protocol says so.
    assert_eq!(p["photo_days"], json!([]));
}

#[tokio::test]
async fn a_protocols_photo_days_are_sorted_bounded_and_reach_the_patients_schedule() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let body = json!({"name": "Photos", "procedure": "microneedling", "needle_depth_mm": 1.0, "areas": ["face"],
                      "sessions_planned": 1, "interval_days": 0, "photo_days": [28, 0, 7, 3, 3]});
    let created = app.post("/v1/protocols", &s.clinician, body).await;
    let protocol = created.ok(201);
    assert_eq!(protocol["photo_days"], json!([0, 3, 7, 28]));
    let id = protocol["id"].as_str().unwrap().to_string();
    let read = app.get(&format!("/v1/protocols/{id}"), &s.clinician).await;
    assert_eq!(read.ok(200)["photo_days"], json!([0, 3, 7, 28]));
    // The patient's app learns them with its treatment's schedule.
    let patient = app.patient(&s.clinician, "MRN-PHOTO").await;
    let treatment = app
        .treatment(&s.clinician, &patient, &id, chrono::Utc::now())
        .await;
    let (token, _) = app.enroll(&s.clinician, &patient).await;
    let schedule = app
        .get(&format!("/v1/treatments/{treatment}/schedule"), &token)
        .await;
    assert_eq!(schedule.ok(200)["photo_days"], json!([0, 3, 7, 28]));

    for (n, days) in [
        json!([-1]),
        json!([366]),
        json!((0..21).collect::<Vec<_>>()),
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"name": format!("Bad {n}"), "procedure": "microneedling", "needle_depth_mm": 1.0,
                          "areas": ["face"], "sessions_planned": 1, "interval_days": 0, "photo_days": days});
        let r = app.post("/v1/protocols", &s.clinician, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["photo_days"], "{days}");
    }
}

#[tokio::test]
async fn a_protocols_schedule_is_sorted_and_its_fields_checked() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let body = json!({"name": "RF 2.0", "procedure": "rf_microneedling", "needle_depth_mm": 2.0, "areas": ["neck", "face"],
                      "sessions_planned": 4, "interval_days": 35, "check_in_days": [7, 0, 1, 1, 3],
                      "aftercare_instructions": "Sunscreen."});
    let r = app.post("/v1/protocols", &s.clinician, body.clone()).await;
    assert!(r.header("location").unwrap().starts_with("/v1/protocols/"));
    assert_eq!(r.ok(201)["check_in_days"], json!([0, 1, 3, 7]));
    app.post("/v1/protocols", &s.clinician, body)
        .await
        .problem(409);

    let bad = json!({"name": "", "procedure": "laser", "needle_depth_mm": 9, "areas": [], "sessions_planned": 0,
                     "interval_days": -1, "check_in_days": [-2]});
    let r = app.post("/v1/protocols", &s.clinician, bad).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "procedure");
    let bad = json!({"name": "", "procedure": "microneedling", "needle_depth_mm": 9, "areas": [], "sessions_planned": 0,
                     "interval_days": -1, "check_in_days": [-2]});
    let r = app.post("/v1/protocols", &s.clinician, bad).await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "areas",
            "check_in_days",
            "interval_days",
            "name",
            "needle_depth_mm",
            "sessions_planned"
        ]
    );
}

#[tokio::test]
async fn protocols_belong_to_their_clinic_and_staff() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    app.get(&format!("/v1/protocols/{}", s.protocol), &other.clinician)
        .await
        .problem(404);
    app.get(
        &format!("/v1/protocols/{}", s.protocol),
        &s.patients[0].token,
    )
    .await
    .problem(403);
    app.get("/v1/protocols", &s.patients[0].token)
        .await
        .problem(403);
    let theirs = app.get("/v1/protocols", &other.clinician).await;
    let ids: Vec<_> = theirs.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, [json!(other.protocol)]);
    // Admins can do what clinicians can.
    app.get("/v1/protocols", &s.clinic.admin).await.ok(200);
}
