use chrono::Utc;
use serde_json::{Value, json};

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

/// The external_refs of a list page, in its order.
fn refs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["external_ref"].as_str().unwrap().to_string())
        .collect()
}

/// The external_refs the list gives for `query`, every page of them.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let mut all = vec![];
    let mut path = format!("/v1/patients?limit=2&{query}");
    loop {
        let page = app.get(&path, token).await.ok(200).clone();
        all.extend(refs(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/patients?limit=2&{query}&cursor={c}"),
            None => return all,
        }
    }
}

#[tokio::test]
async fn the_list_finds_record_numbers_and_names_as_one_types() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    for (external_ref, name) in [
        ("MRN-1001", "Alex Morgan"),
        ("MRN-1002", "Alexandra Stone"),
        ("MRN-2001", "Jamie Alexander"),
        ("XY-77", "Malex Ray"),
        ("MRN-3001", ""),
    ] {
        let name = (!name.is_empty()).then_some(name);
        let body = json!({"external_ref": external_ref, "display_name": name});
        app.post("/v1/patients", &clinician, body).await.ok(201);
    }
    let other = app.clinic("Other", "UTC").await;
    let other_clinician = app.clinician(&other).await;
    let body = json!({"external_ref": "MRN-1003", "display_name": "Alex Other"});
    app.post("/v1/patients", &other_clinician, body)
        .await
        .ok(201);

    for (q, expected) in [
        // A prefix of the record number, compared as record numbers are.
        ("MRN-100", vec!["MRN-1001", "MRN-1002"]),
        ("mrn%201001", vec!["MRN-1001"]),
        ("MRN1", vec!["MRN-1001", "MRN-1002"]),
        ("mrn", vec!["MRN-1001", "MRN-1002", "MRN-2001", "MRN-3001"]),
        ("%EF%BD%8D%EF%BD%92%EF%BD%8E%EF%BC%92", vec!["MRN-2001"]), // ｍｒｎ２
        ("xy", vec!["XY-77"]),
        // A prefix of any word of the name, in any case; every word typed must begin one.
        ("alex", vec!["MRN-1001", "MRN-1002", "MRN-2001"]),
        ("ALEX%20mo", vec!["MRN-1001"]),
        ("st", vec!["MRN-1002"]),
        ("a", vec!["MRN-1001", "MRN-1002", "MRN-2001"]),
        ("r", vec!["XY-77"]),
        // Inside a word or a record number is no match; nor is text without a letter or digit.
        ("lex", vec![]),
        ("77", vec![]),
        ("--", vec![]),
        ("%25", vec![]),
        ("_", vec![]),
        ("%00", vec![]),
        ("'%3A*%20%7C%20!", vec![]),
    ] {
        assert_eq!(
            listed(&app, &clinician, &format!("q={q}")).await,
            expected,
            "q={q}"
        );
    }
    assert_eq!(listed(&app, &other_clinician, "q=alex").await, ["MRN-1003"]);
}

#[tokio::test]
async fn the_list_filters_by_protocol_follow_up_alerts_and_todays_check_in() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let face = app.protocol(&clinician, "Face 1.0 mm").await;
    let scalp = app.protocol(&clinician, "Scalp 1.5 mm").await;
    let now = Utc::now();
    let days_ago = |d: i64| now - chrono::Duration::days(d);

    // Treated two days ago, checked in today with signs of infection: an urgent alert.
    let alerted = app.patient(&clinician, "P-ALERT").await;
    let treatment = app
        .treatment(&clinician, &alerted, &face, days_ago(2))
        .await;
    let (token, _) = app.enroll(&clinician, &alerted).await;
    let scores = json!({"redness": 1, "infection": 2});
    app.check_in(&token, &CheckIn::new(&treatment, now, scores))
        .await
        .ok(201);
    // Treated today, not checked in yet.
    let today = app.patient(&clinician, "P-TODAY").await;
    app.treatment(
        &clinician,
        &today,
        &face,
        now - chrono::Duration::seconds(1),
    )
    .await;
    // Treated 40 days ago: past the default schedule's last day, 28.
    let past = app.patient(&clinician, "P-PAST").await;
    app.treatment(&clinician, &past, &scalp, days_ago(40)).await;
    // Treated with the scalp protocol long ago and with the face protocol yesterday.
    let again = app.patient(&clinician, "P-AGAIN").await;
    app.treatment(&clinician, &again, &scalp, days_ago(60))
        .await;
    app.treatment(&clinician, &again, &face, days_ago(1)).await;
    app.patient(&clinician, "P-NONE").await;

    let list = |query: String| {
        let (app, token) = (&app, clinician.clone());
        async move { listed(app, &token, &query).await }
    };
    let all = ["P-ALERT", "P-TODAY", "P-PAST", "P-AGAIN", "P-NONE"];
    assert_eq!(list(String::new()).await, all);
    for (query, expected) in [
        (
            format!("protocol_id={face}"),
            vec!["P-ALERT", "P-TODAY", "P-AGAIN"],
        ),
        (format!("protocol_id={scalp}"), vec!["P-PAST"]),
        (
            "in_follow_up=true".into(),
            vec!["P-ALERT", "P-TODAY", "P-AGAIN"],
        ),
        ("in_follow_up=false".into(), vec!["P-PAST", "P-NONE"]),
        ("open_alerts=true".into(), vec!["P-ALERT"]),
        (
            "open_alerts=false".into(),
            vec!["P-TODAY", "P-PAST", "P-AGAIN", "P-NONE"],
        ),
        ("due_today=true".into(), vec!["P-TODAY", "P-AGAIN"]),
        (
            "due_today=false".into(),
            vec!["P-ALERT", "P-PAST", "P-NONE"],
        ),
        // Nobody's recovery is slower than usual: the protocol has no cohort yet.
        ("slower=true".into(), vec![]),
        ("slower=false".into(), all.to_vec()),
        // Filters combine.
        (
            format!("due_today=true&q=p-t&protocol_id={face}"),
            vec!["P-TODAY"],
        ),
        (
            "in_follow_up=true&open_alerts=false&due_today=false".into(),
            vec![],
        ),
        (
            "in_follow_up=false&due_today=false".into(),
            vec!["P-PAST", "P-NONE"],
        ),
    ] {
        assert_eq!(list(query.clone()).await, expected, "{query}");
    }

    // Each item carries what the list's row shows.
    let page = app.get("/v1/patients", &clinician).await.ok(200).clone();
    let item = |r: &str| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["external_ref"] == r)
            .unwrap()
            .clone()
    };
    let a = item("P-ALERT");
    assert_eq!(a["id"], alerted.as_str());
    assert_eq!(a["open_alerts"], 1);
    assert_eq!(a["top_alert_level"], "urgent");
    let latest = &a["latest_treatment"];
    assert_eq!(latest["treatment_id"], treatment.as_str());
    assert_eq!(latest["protocol_id"], face.as_str());
    assert_eq!(latest["day"], 2);
    assert_eq!(latest["in_follow_up"], true);
    assert_eq!(latest["due_today_not_checked_in"], false);
    assert_eq!(latest["slower_than_usual"], false);
    assert_eq!(latest["worst_by_day"], json!([{"day": 2, "score": 2}]));
    assert_eq!(
        latest["latest_check_in"],
        json!({"day": 2, "worst": {"code": "infection", "score": 2}})
    );
    let t = item("P-TODAY");
    assert_eq!(t["open_alerts"], 0);
    assert_eq!(t["top_alert_level"], Value::Null);
    assert_eq!(t["latest_treatment"]["day"], 0);
    assert_eq!(t["latest_treatment"]["due_today_not_checked_in"], true);
    assert_eq!(t["latest_treatment"]["latest_check_in"], Value::Null);
    assert_eq!(t["latest_treatment"]["worst_by_day"], json!([]));
    let p = item("P-PAST");
    assert_eq!(p["latest_treatment"]["day"], 40);
    assert_eq!(p["latest_treatment"]["in_follow_up"], false);
    assert_eq!(p["latest_treatment"]["due_today_not_checked_in"], false);
    assert_eq!(
        item("P-AGAIN")["latest_treatment"]["protocol_id"],
        face.as_str()
    );
    assert_eq!(item("P-NONE")["latest_treatment"], Value::Null);

    // Another clinic's protocol chooses none of this clinic's patients, nor its own here.
    let other = app.clinic("Other", "UTC").await;
    let other_clinician = app.clinician(&other).await;
    let other_face = app.protocol(&other_clinician, "Face 1.0 mm").await;
    let theirs = app.patient(&other_clinician, "P-THEIRS").await;
    app.treatment(&other_clinician, &theirs, &other_face, days_ago(1))
        .await;
    assert_eq!(
        list(format!("protocol_id={other_face}")).await,
        Vec::<String>::new()
    );
    assert_eq!(list("due_today=true".into()).await, ["P-TODAY", "P-AGAIN"]);
    assert_eq!(
        listed(&app, &other_clinician, &format!("protocol_id={face}")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&app, &other_clinician, "due_today=true").await,
        ["P-THEIRS"]
    );
}

#[tokio::test]
async fn slower_than_usual_in_the_list_is_the_dashboards() {
    let app = spawn_app().await;
    let clinic = app.clinic("Lumen", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let face = app.protocol(&clinician, "Face 1.0 mm").await;
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - chrono::Duration::days(5) + chrono::Duration::hours(1);
    // 21 patients whose redness is gone by day 3, and one whose redness stays severe.
    for n in 0..22 {
        let patient = app.patient(&clinician, &format!("P-{n:02}")).await;
        let treatment = app
            .treatment(&clinician, &patient, &face, performed_at)
            .await;
        let (token, _) = app.enroll(&clinician, &patient).await;
        let check_ins: Vec<CheckIn> = (0..5)
            .map(|day: i64| {
                let redness = if n == 21 { 3 } else { (1 + n % 3 - day).max(0) };
                let at = performed_at + chrono::Duration::days(day) + chrono::Duration::minutes(30);
                CheckIn::new(&treatment, at, json!({"redness": redness}))
            })
            .collect();
        app.check_in_batch(&token, &check_ins).await.ok(200);
    }
    let dashboard = app.get("/v1/dashboard", &clinician).await.ok(200).clone();
    let slow: Vec<&Value> = dashboard["slower_than_usual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["patient_id"])
        .collect();
    assert_eq!(slow.len(), 1, "{dashboard:#}");
    let page = app
        .get("/v1/patients?slower=true", &clinician)
        .await
        .ok(200)
        .clone();
    assert_eq!(refs(&page), ["P-21"]);
    assert_eq!(&page["items"][0]["id"], slow[0]);
    let latest = &page["items"][0]["latest_treatment"];
    assert_eq!(latest["slower_than_usual"], true);
    assert_eq!(latest["slower_symptoms"], json!(["redness"]));
    assert_eq!(
        latest["latest_check_in"]["worst"],
        json!({"code": "redness", "score": 3})
    );
    let others = listed(&app, &clinician, "slower=false").await;
    assert_eq!(others.len(), 21);
    assert!(!others.contains(&"P-21".to_string()));
}

#[tokio::test]
async fn bad_list_parameters_are_a_400_naming_each() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let long = "a".repeat(101);
    for (query, fields) in [
        ("q=", vec!["q"]),
        (&*format!("q={long}"), vec!["q"]),
        ("protocol_id=face", vec!["protocol_id"]),
        ("in_follow_up=yes", vec!["in_follow_up"]),
        ("open_alerts=1", vec!["open_alerts"]),
        ("slower=TRUE", vec!["slower"]),
        ("due_today=", vec!["due_today"]),
        ("limit=0", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("cursor=not-a-cursor", vec!["cursor"]),
        (
            "q=&due_today=maybe&limit=201",
            vec!["q", "due_today", "limit"],
        ),
    ] {
        let r = app
            .get(&format!("/v1/patients?{query}"), &s.clinician)
            .await;
        r.problem(400);
        assert_eq!(r.error_fields(), fields, "{query}");
    }
    // The longest search is 100 characters, counted as characters.
    let q = "é".repeat(100);
    app.get(&format!("/v1/patients?q={q}"), &s.clinician)
        .await
        .ok(200);
    // A patient's token may not list, whatever the parameters.
    app.get("/v1/patients?q=", &s.patients[0].token)
        .await
        .problem(403);
}

#[tokio::test]
async fn a_patients_contact_phone_is_kept_changed_and_cleared() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let body = json!({"external_ref": "MRN-500", "contact_phone": "+49 151 2345-6789"});
    let r = app.post("/v1/patients", &s.clinician, body).await;
    let created = r.ok(201).clone();
    assert_eq!(created["contact_phone"], "+4915123456789");
    let path = format!("/v1/patients/{}", created["id"].as_str().unwrap());
    assert_eq!(
        app.get(&path, &s.clinician).await.ok(200)["contact_phone"],
        "+4915123456789"
    );
    let r = app
        .patch(&path, &s.clinician, json!({"contact_phone": "+1 555 0100"}))
        .await;
    assert_eq!(r.ok(200)["contact_phone"], "+15550100");
    // Left out, it stays.
    let r = app
        .patch(&path, &s.clinician, json!({"display_name": "Sam"}))
        .await;
    assert_eq!(r.ok(200)["contact_phone"], "+15550100");
    let page = app.get("/v1/patients?q=mrn-500", &s.clinician).await;
    assert_eq!(page.ok(200)["items"][0]["contact_phone"], "+15550100");
    let export = app.get(&format!("{path}/export"), &s.clinician).await;
    assert_eq!(export.ok(200)["patient"]["contact_phone"], "+15550100");
    let r = app
        .patch(&path, &s.clinician, json!({"contact_phone": null}))
        .await;
    assert_eq!(r.ok(200)["contact_phone"], Value::Null);
    assert_eq!(
        app.get(&path, &s.clinician).await.ok(200)["contact_phone"],
        Value::Null
    );

    for phone in [
        "0151 2345678",
        "+12",
        "+49 (30) 1234",
        "",
        "+".repeat(50).as_str(),
    ] {
        let r = app
            .patch(&path, &s.clinician, json!({"contact_phone": phone}))
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["contact_phone"], "{phone:?}");
        let body = json!({"external_ref": "MRN-501", "contact_phone": phone});
        let r = app.post("/v1/patients", &s.clinician, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["contact_phone"], "{phone:?}");
    }
    let r = app
        .patch(
            &path,
            &s.clinician,
            json!({"contact_phone": 4915123456789u64}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "contact_phone");
}
