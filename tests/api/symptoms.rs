use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn every_role_reads_the_catalogue_of_twelve_defaults() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    for token in [&s.clinic.admin, &s.clinician, &s.patients[0].token] {
        let r = app.get("/v1/symptoms", token).await;
        let items = r.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 12);
        assert_eq!(items[0]["code"], "redness");
        assert_eq!(items[0]["answers"][4]["label"], "Very severe");
        assert_eq!(items[11]["code"], "blisters");
        assert_eq!(items[11]["kind"], "presence");
        assert!(items.iter().all(|i| i["default"] == true));
    }
    let r = app.get("/v1/symptoms/fever", &s.patients[0].token).await;
    assert_eq!(
        r.ok(200)["answers"],
        json!([{"value": 0, "label": "No", "urgent_from_day": null},
               {"value": 1, "label": "Yes", "urgent_from_day": 0}])
    );
    // Redness rated very severe is expected on the treatment day, urgent from day 1.
    let r = app.get("/v1/symptoms/redness", &s.patients[0].token).await;
    assert_eq!(r.ok(200)["answers"][4]["urgent_from_day"], 1);
    assert_eq!(r.body["answers"][3]["urgent_from_day"], Value::Null);
}

#[tokio::test]
async fn admins_add_items_that_only_their_clinic_sees() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let item = json!({"code": "tightness", "label": "Tight skin", "kind": "severity"});
    let r = app
        .post("/v1/symptoms", &s.clinic.admin, item.clone())
        .await;
    assert_eq!(r.header("location"), Some("/v1/symptoms/tightness"));
    assert_eq!(r.ok(201)["default"], false);
    app.post("/v1/symptoms", &s.clinic.admin, item.clone())
        .await
        .problem(409);
    app.post("/v1/symptoms", &other.clinic.admin, item.clone())
        .await
        .ok(201);
    app.post("/v1/symptoms", &s.clinician, item)
        .await
        .problem(403);

    let mine = app.get("/v1/symptoms", &s.patients[0].token).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 13);
    app.get("/v1/symptoms/tightness", &s.clinician)
        .await
        .ok(200);
    // A default's code is taken, as the clinic's own are.
    let shadow = json!({"code": "redness", "label": "Mine", "kind": "severity"});
    let problem = app
        .post("/v1/symptoms", &s.clinic.admin, shadow)
        .await
        .problem(409)
        .clone();
    assert!(problem["detail"].as_str().unwrap().contains("default"));
    let bad = json!({"code": "Bad Code", "label": "", "kind": "scale"});
    app.post("/v1/symptoms", &s.clinic.admin, bad)
        .await
        .problem(422);
}

#[tokio::test]
async fn another_clinics_item_is_not_found() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let item = json!({"code": "glow", "label": "Glow", "kind": "presence"});
    app.post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .ok(201);
    app.get("/v1/symptoms/glow", &other.clinician)
        .await
        .problem(404);
}

#[tokio::test]
async fn a_full_catalogue_refuses_more_items_with_a_conflict() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    for i in 0..aftercare::api::symptoms::MAX_CLINIC_ITEMS {
        let item = json!({"code": format!("item_{i}"), "label": "An item", "kind": "presence"});
        app.post("/v1/symptoms", &s.clinic.admin, item)
            .await
            .ok(201);
    }
    let item = json!({"code": "one_more", "label": "One more", "kind": "presence"});
    let problem = app
        .post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .problem(409)
        .clone();
    assert!(problem["detail"].as_str().unwrap().contains("50 items"));
}
