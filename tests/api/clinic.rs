//! The clinic's settings (contact phone, reminder hour) and the enrollment link.

use aftercare::config::HttpSettings;
use aftercare::startup::Background;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_role_reads_the_clinic_and_an_admin_changes_it() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let patient = &s.patients[0].token;
    for token in [&s.clinic.admin, &s.clinician, patient] {
        let c = app.get("/v1/clinic", token).await;
        let c = c.ok(200);
        assert_eq!(c["id"], s.clinic.id.to_string());
        assert_eq!(c["name"], "Lumen");
        assert_eq!(c["timezone"], "Europe/Berlin");
        assert_eq!(c["contact_phone"], json!(null));
        assert_eq!(c["reminder_hour"], 18);
    }

    let change = json!({"contact_phone": " +49 30 1234-5678 ", "reminder_hour": 19});
    for token in [&s.clinician, patient] {
        app.patch("/v1/clinic", token, change.clone())
            .await
            .problem(403);
    }
    let r = app.patch("/v1/clinic", &s.clinic.admin, change).await;
    assert_eq!(r.ok(200)["contact_phone"], "+493012345678");
    assert_eq!(r.body["reminder_hour"], 19);
    let seen = app.get("/v1/clinic", &s.clinician).await;
    assert_eq!(seen.ok(200), &r.body);
    // The patient's app is not shown the clinic code, which is for staff signing in.
    let mut for_patient = r.body.clone();
    for_patient["code"] = json!(null);
    let seen = app.get("/v1/clinic", patient).await;
    assert_eq!(seen.ok(200), &for_patient);

    // A field left out stays; null clears the phone.
    let r = app
        .patch("/v1/clinic", &s.clinic.admin, json!({"reminder_hour": 0}))
        .await;
    assert_eq!(r.ok(200)["contact_phone"], "+493012345678");
    let r = app
        .patch(
            "/v1/clinic",
            &s.clinic.admin,
            json!({"contact_phone": null}),
        )
        .await;
    assert_eq!(r.ok(200)["contact_phone"], json!(null));
    assert_eq!(r.body["reminder_hour"], 0);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let r = app
        .patch(
            "/v1/clinic",
            admin,
            json!({"contact_phone": "030 1234 5678", "reminder_hour": 24}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), ["contact_phone", "reminder_hour"]);
    for bad in [
        json!({"contact_phone": "+12345"}),
        json!({"reminder_hour": -1}),
        json!({"contact_phone": 4930123456_i64}),
        json!({"reminder_hour": 100000}),
        json!({"name": "Renamed"}),
    ] {
        let r = app.patch("/v1/clinic", admin, bad.clone()).await;
        assert!([400, 422].contains(&r.status), "{bad}: {:?}", r);
        r.problem(r.status);
    }
    let c = app.get("/v1/clinic", admin).await;
    assert_eq!(c.ok(200)["reminder_hour"], 18);
    assert_eq!(c.body["contact_phone"], json!(null));
    assert_eq!(c.body["name"], "Lumen");
    let r = app
        .request(reqwest::Method::GET, "/v1/clinic", None, None)
        .await;
    r.problem(401);
}

#[tokio::test]
async fn each_clinic_sees_and_changes_its_own_settings_only() {
    let app = spawn_app().await;
    let a = app.scenario("Lumen").await;
    let b = app.scenario("Other").await;
    app.patch("/v1/clinic", &a.clinic.admin, json!({"reminder_hour": 7}))
        .await
        .ok(200);
    let seen = app.get("/v1/clinic", &b.patients[0].token).await;
    assert_eq!(seen.ok(200)["id"], b.clinic.id.to_string());
    assert_eq!(seen.body["reminder_hour"], 18);
}

#[tokio::test]
async fn changing_the_settings_is_audited() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    app.patch("/v1/clinic", &s.clinic.admin, json!({"reminder_hour": 20}))
        .await
        .ok(200);
    app.patch("/v1/clinic", &s.clinician, json!({"reminder_hour": 21}))
        .await
        .problem(403);
    let mut db = app.db();
    let rows: Vec<(String, String)> = aftercare::db::schema::audit_events::table
        .filter(aftercare::db::schema::audit_events::resource_type.eq("clinic"))
        .select((
            aftercare::db::schema::audit_events::action,
            aftercare::db::schema::audit_events::outcome,
        ))
        .order(aftercare::db::schema::audit_events::at)
        .load(&mut db)
        .unwrap();
    assert_eq!(
        rows,
        [
            ("update".to_string(), "success".to_string()),
            ("update".to_string(), "denied".to_string())
        ]
    );
}

#[tokio::test]
async fn an_enrollment_code_comes_with_the_link_that_enrolls_the_app() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/patients/{}/enrollment-codes", s.patients[0].id);
    let r = app.post(&path, &s.clinician, json!(null)).await;
    let code = r.ok(201)["code"].as_str().unwrap();
    // Without AFTERCARE_PUBLIC_URL: the scheme and host the request came to.
    assert_eq!(r.body["link"], format!("{}/app#code={code}", app.base));

    let http = HttpSettings {
        public_url: Some(
            aftercare::config::PublicUrl::parse("https://aftercare.clinic.example").unwrap(),
        ),
        ..HttpSettings::default()
    };
    let app = spawn_app_with(http, Background::default()).await;
    let s = app.scenario("Lumen").await;
    let path = format!("/v1/patients/{}/enrollment-codes", s.patients[0].id);
    let r = app.post(&path, &s.clinician, json!(null)).await;
    let code = r.ok(201)["code"].as_str().unwrap().to_string();
    let link = r.body["link"].as_str().unwrap();
    assert_eq!(
        link,
        format!("https://aftercare.clinic.example/app#code={code}")
    );

    // The code in the link's fragment enrolls a phone.
    let (_, from_link) = link.split_once("#code=").unwrap();
    app.post_anon("/v1/auth/enroll", json!({"code": from_link}))
        .await
        .ok(200);
}
