use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn clinicians_register_and_update_patients() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let body = json!({"external_ref": "MRN-77", "display_name": "Alex", "birth_year": 1988, "fitzpatrick_type": 5,
                      "concerns": ["texture", "acne_scars", "texture"]});
    let r = app.post("/v1/patients", &s.clinician, body).await;
    let location = r.header("location").unwrap().to_string();
    let p = r.ok(201).clone();
    assert_eq!(p["concerns"], json!(["acne_scars", "texture"]));

    let r = app
        .patch(
            &location,
            &s.clinician,
            json!({"display_name": null, "fitzpatrick_type": 6}),
        )
        .await;
    let updated = r.ok(200);
    assert_eq!(updated["display_name"], serde_json::Value::Null);
    assert_eq!(updated["fitzpatrick_type"], 6);
    assert_eq!(updated["birth_year"], 1988);
    assert_eq!(app.get(&location, &s.clinician).await.ok(200), updated);
}

#[tokio::test]
async fn external_refs_are_unique_within_a_clinic_only() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    app.post(
        "/v1/patients",
        &s.clinician,
        json!({"external_ref": "MRN-0"}),
    )
    .await
    .problem(409);
    app.post(
        "/v1/patients",
        &other.clinician,
        json!({"external_ref": "MRN-9"}),
    )
    .await
    .ok(201);
    let path = format!("/v1/patients/{}", s.patients[1].id);
    app.patch(&path, &s.clinician, json!({"external_ref": "MRN-0"}))
        .await
        .problem(409);
}

#[tokio::test]
async fn patient_fields_are_checked() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let bad = json!({"external_ref": " padded ", "birth_year": 1850, "fitzpatrick_type": 7, "display_name": "  "});
    let r = app.post("/v1/patients", &s.clinician, bad).await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "birth_year",
            "display_name",
            "external_ref",
            "fitzpatrick_type"
        ]
    );
    let r = app
        .post(
            "/v1/patients",
            &s.clinician,
            json!({"external_ref": "x", "concerns": ["wrinkles"]}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "concerns[0]");
    let path = format!("/v1/patients/{}", s.patients[0].id);
    app.patch(&path, &s.clinician, json!({"external_ref": null}))
        .await
        .problem(422);
    app.patch(&path, &s.clinician, json!({"clinic_id": "x"}))
        .await
        .problem(422);
}

#[tokio::test]
async fn patients_see_only_themselves_and_clinics_only_their_own() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let me = format!("/v1/patients/{}", s.patients[0].id);
    let sibling = format!("/v1/patients/{}", s.patients[1].id);
    assert_eq!(
        app.get(&me, &s.patients[0].token).await.ok(200)["id"],
        s.patients[0].id
    );
    app.get(&sibling, &s.patients[0].token).await.problem(404);
    app.get(&me, &other.clinician).await.problem(404);
    app.get(&me, &other.patients[0].token).await.problem(404);
    app.patch(&me, &other.clinician, json!({"display_name": "x"}))
        .await
        .problem(404);
    app.patch(&me, &s.patients[0].token, json!({"display_name": "x"}))
        .await
        .problem(403);
    app.get("/v1/patients", &s.patients[0].token)
        .await
        .problem(403);
    app.post(
        "/v1/patients",
        &s.patients[0].token,
        json!({"external_ref": "x"}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn the_patient_list_pages_through_every_patient_once() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    for n in 10..15 {
        app.patient(&s.clinician, &format!("MRN-{n}")).await;
    }
    let mut refs = vec![];
    let mut path = "/v1/patients?limit=3".to_string();
    loop {
        let page = app.get(&path, &s.clinician).await;
        let page = page.ok(200).clone();
        refs.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["external_ref"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/patients?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        refs,
        [
            "MRN-0", "MRN-1", "MRN-10", "MRN-11", "MRN-12", "MRN-13", "MRN-14"
        ]
    );
}
