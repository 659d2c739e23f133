use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admins_add_staff_who_can_then_sign_in() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let body = json!({"email": " Dr.Lee@Clinic.Example ", "password": PASSWORD, "role": "clinician", "name": "Dr. Lee"});
    let r = app.post("/v1/staff", &clinic.admin, body).await;
    let location = r.header("location").unwrap().to_string();
    let created = r.ok(201).clone();
    assert_eq!(created["email"], "dr.lee@clinic.example");
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    assert_eq!(app.get(&location, &clinic.admin).await.ok(200), &created);
    let tokens = app.login("DR.LEE@clinic.example", PASSWORD).await;
    assert_eq!(tokens["role"], "clinician");

    let list = app.get("/v1/staff", &clinic.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn staff_emails_are_unique_and_passwords_long() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "Europe/Berlin").await;
    let other = app.clinic("Other", "Europe/Berlin").await;
    let body =
        json!({"email": "a@clinic.example", "password": PASSWORD, "role": "admin", "name": "A"});
    app.post("/v1/staff", &clinic.admin, body.clone())
        .await
        .ok(201);
    app.post("/v1/staff", &clinic.admin, body.clone())
        .await
        .problem(409);
    // Unique within a clinic only: another clinic learns nothing of this one's staff.
    app.post("/v1/staff", &other.admin, body).await.ok(201);
    let weak =
        json!({"email": "b@clinic.example", "password": "short", "role": "clinician", "name": "B"});
    assert_eq!(
        app.post("/v1/staff", &clinic.admin, weak)
            .await
            .problem(422)["errors"][0]["field"],
        "password"
    );
    let bad = json!({"email": "not-an-email", "password": PASSWORD, "role": "owner", "name": ""});
    app.post("/v1/staff", &clinic.admin, bad).await.problem(422);
}

#[tokio::test]
async fn only_admins_manage_staff_and_only_their_own() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let body = json!({"email": "x@clinic.example", "password": PASSWORD, "role": "clinician", "name": "X"});
    app.post("/v1/staff", &s.clinician, body.clone())
        .await
        .problem(403);
    app.post("/v1/staff", &s.patients[0].token, body)
        .await
        .problem(403);
    app.get("/v1/staff", &s.clinician).await.problem(403);
    let mine = app.get("/v1/staff", &s.clinic.admin).await.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("/v1/staff/{mine}"), &other.clinic.admin)
        .await
        .problem(404);
    let theirs = app.get("/v1/staff", &other.clinic.admin).await;
    assert!(
        theirs.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != mine.as_str())
    );
}
