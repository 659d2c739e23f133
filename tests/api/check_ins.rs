use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// A check-in with every part: five scores, aftercare answers and a note.
fn full_check_in(treatment: &str, recorded_at: DateTime<Utc>) -> CheckIn {
    CheckIn::new(
        treatment,
        recorded_at,
        json!({"redness": 2, "swelling": 1, "flaking": 0, "infection": 0, "fever": 0}),
    )
    .aftercare(json!({"sunscreen": true, "sun_exposure": false}))
    .note("a little tight in the morning")
}

fn stored_check_ins(app: &TestApp) -> i64 {
    use aftercare::db::schema::check_ins::dsl::*;
    check_ins.count().get_result(&mut app.db()).unwrap()
}

fn stored_scores(app: &TestApp) -> i64 {
    use aftercare::db::schema::check_in_scores::dsl::*;
    check_in_scores.count().get_result(&mut app.db()).unwrap()
}

#[tokio::test]
async fn a_patient_records_a_check_in_and_reads_it_back() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = full_check_in(&p.treatment, Utc::now());
    let r = app.check_in(&p.token, &check_in).await;
    let location = r.header("location").unwrap().to_string();
    let stored = r.ok(201).clone();
    assert_eq!(location, format!("/v1/check-ins/{}", check_in.id));
    assert_eq!(stored["day"], 2);
    assert_eq!(stored["scores"], check_in.scores);
    assert_eq!(stored["aftercare"]["sunscreen"], true);
    assert_eq!(stored["aftercare"]["makeup"], Value::Null);
    assert_eq!(stored["patient_id"], p.id);
    assert_eq!(stored["alerts"], json!([]));

    assert_eq!(
        app.get(&location, &p.token).await.ok(200)["scores"],
        check_in.scores
    );
    assert_eq!(
        app.get(&location, &s.clinician).await.ok(200)["id"],
        check_in.id.to_string()
    );
    let list = app
        .get(&format!("/v1/patients/{}/check-ins", p.id), &p.token)
        .await;
    assert_eq!(list.ok(200)["items"][0]["id"], check_in.id.to_string());
    assert_eq!(stored_scores(&app), 5);
}

#[tokio::test]
async fn the_day_is_counted_in_the_clinics_time_zone() {
    let app = spawn_app().await;
    let clinic = app.clinic("Kiwi", "Pacific/Auckland").await;
    let clinician = app.clinician(&clinic).await;
    let protocol = app.protocol(&clinician, "P").await;
    let patient = app.patient(&clinician, "MRN-1").await;
    // 23:00 in Auckland (UTC+13 in November) on the 19th; 01:00 there on the 20th is day 1,
    // although both instants fall on the 19th in UTC.
    let performed: DateTime<Utc> = "2026-11-19T10:00:00Z".parse().unwrap();
    let treatment = app
        .treatment(&clinician, &patient, &protocol, performed)
        .await;
    let (token, _) = app.enroll(&clinician, &patient).await;
    let at = |time: &str| full_check_in(&treatment, time.parse().unwrap());
    let r = app.check_in(&token, &at("2026-11-19T12:00:00Z")).await;
    assert_eq!(r.ok(201)["day"], 1);
    let r = app.check_in(&token, &at("2026-11-19T10:30:00Z")).await;
    assert_eq!(r.ok(201)["day"], 0);
}

#[tokio::test]
async fn sending_the_same_check_in_again_stores_nothing_new() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = full_check_in(&p.treatment, Utc::now());
    let first = app.check_in(&p.token, &check_in).await;
    first.ok(201);
    // The same instant written with another offset is the same content.
    let mut again = check_in.body();
    again["recorded_at"] = json!(
        check_in
            .recorded_at
            .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
            .to_rfc3339()
    );
    let second = app.post("/v1/check-ins", &p.token, again).await;
    assert_eq!(second.ok(200), &first.body);
    assert_eq!(stored_check_ins(&app), 1);

    let mut changed = check_in.clone();
    changed.scores["redness"] = json!(3);
    app.check_in(&p.token, &changed).await.problem(409);
    // The other patient can't reuse (or learn anything from) the id either.
    let theirs = CheckIn {
        id: check_in.id,
        ..full_check_in(&s.patients[1].treatment, Utc::now())
    };
    app.check_in(&s.patients[1].token, &theirs)
        .await
        .problem(409);
    assert_eq!(stored_check_ins(&app), 1);
}

#[tokio::test]
async fn concurrent_duplicates_store_one_check_in() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = full_check_in(&p.treatment, Utc::now());
    let posts = (0..16).map(|_| app.check_in(&p.token, &check_in));
    let answers = futures_util::future::join_all(posts).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let replayed = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        (created, replayed),
        (1, 15),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(stored_check_ins(&app), 1);
    assert_eq!(stored_scores(&app), 5);
}

#[tokio::test]
async fn scores_outside_their_range_or_the_catalogue_are_refused() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let out_of_range = CheckIn {
        scores: json!({"redness": 5, "fever": 2, "glow": 1, "pain": -1}),
        ..full_check_in(&p.treatment, Utc::now())
    };
    let r = app.check_in(&p.token, &out_of_range).await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "scores.fever",
            "scores.glow",
            "scores.pain",
            "scores.redness"
        ]
    );

    // A score of the wrong type, and a field the check-in doesn't have, are sent as raw JSON.
    let mut body = full_check_in(&p.treatment, Utc::now()).body();
    body["scores"] = json!({"redness": 1.5});
    assert_eq!(
        app.post("/v1/check-ins", &p.token, body).await.problem(422)["errors"][0]["field"],
        "scores.redness"
    );
    let no_scores = CheckIn {
        scores: json!({}),
        ..full_check_in(&p.treatment, Utc::now())
    };
    app.check_in(&p.token, &no_scores).await.problem(422);
    let mut body = full_check_in(&p.treatment, Utc::now()).body();
    body["mood"] = json!("great");
    app.post("/v1/check-ins", &p.token, body).await.problem(422);
    assert_eq!(stored_check_ins(&app), 0);
}

#[tokio::test]
async fn recorded_at_must_fall_between_the_treatment_and_now() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let before = s.performed_at - Duration::seconds(1);
    let r = app
        .check_in(&p.token, &full_check_in(&p.treatment, before))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "recorded_at");
    let ahead = Utc::now() + Duration::minutes(6);
    app.check_in(&p.token, &full_check_in(&p.treatment, ahead))
        .await
        .problem(422);
    let slightly_ahead = Utc::now() + Duration::minutes(4);
    app.check_in(&p.token, &full_check_in(&p.treatment, slightly_ahead))
        .await
        .ok(201);
    // A time without its offset is no time the check-in can hold: raw JSON.
    let mut no_offset = full_check_in(&p.treatment, Utc::now()).body();
    no_offset["recorded_at"] = json!("2026-11-21T08:30:00");
    app.post("/v1/check-ins", &p.token, no_offset)
        .await
        .problem(422);
}

#[tokio::test]
async fn patients_check_in_only_on_their_own_treatments() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let p = &s.patients[0];
    for treatment in [
        &s.patients[1].treatment,
        &other.patients[0].treatment,
        &Uuid::new_v4().to_string(),
    ] {
        let r = app
            .check_in(&p.token, &full_check_in(treatment, Utc::now()))
            .await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "treatment_id");
    }
    // Staff don't check in.
    for staff in [&s.clinician, &s.clinic.admin] {
        app.check_in(staff, &full_check_in(&p.treatment, Utc::now()))
            .await
            .problem(403);
    }
}

#[tokio::test]
async fn check_ins_are_seen_only_by_their_patient_and_clinic() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let p = &s.patients[0];
    let check_in = full_check_in(&p.treatment, Utc::now());
    app.check_in(&p.token, &check_in).await.ok(201);
    let one = format!("/v1/check-ins/{}", check_in.id);
    let list = format!("/v1/patients/{}/check-ins", p.id);
    app.get(&one, &s.patients[1].token).await.problem(404);
    app.get(&list, &s.patients[1].token).await.problem(404);
    app.get(&one, &other.clinician).await.problem(404);
    app.get(&list, &other.clinician).await.problem(404);
    app.get(&one, &other.patients[0].token).await.problem(404);
    // The other clinic's own list of its patient shows nothing of ours.
    let theirs = app
        .get(
            &format!("/v1/patients/{}/check-ins", other.patients[0].id),
            &other.clinician,
        )
        .await;
    assert_eq!(theirs.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn check_ins_list_newest_first_page_by_page() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let mut ids = vec![];
    for hours in [40, 30, 20, 10, 1] {
        let check_in = full_check_in(&p.treatment, Utc::now() - Duration::hours(hours));
        ids.push(check_in.id.to_string());
        app.check_in(&p.token, &check_in).await.ok(201);
    }
    ids.reverse();
    let mut seen = vec![];
    let mut path = format!("/v1/patients/{}/check-ins?limit=2", p.id);
    loop {
        let page = app.get(&path, &s.clinician).await;
        let page = page.ok(200);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/patients/{}/check-ins?limit=2&cursor={cursor}", p.id)
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let filtered = app
        .get(
            &format!(
                "/v1/patients/{}/check-ins?treatment_id={}",
                p.id,
                Uuid::new_v4()
            ),
            &p.token,
        )
        .await;
    assert_eq!(filtered.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn a_batch_stores_the_valid_items_and_reports_the_rest() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let good = full_check_in(&p.treatment, Utc::now() - Duration::hours(5));
    let good2 = full_check_in(&p.treatment, Utc::now() - Duration::hours(1));
    let mut bad_score = full_check_in(&p.treatment, Utc::now());
    bad_score.scores["redness"] = json!(9);
    // An item with a field the check-in doesn't have: the batch is raw JSON.
    let mut bad_shape = full_check_in(&p.treatment, Utc::now()).body();
    bad_shape["unknown"] = json!(true);
    let foreign = full_check_in(&s.patients[1].treatment, Utc::now());
    let batch = json!({"check_ins": [good.body(), bad_score.body(), good2.body(), bad_shape, foreign.body()]});

    let r = app
        .post("/v1/check-ins/batch", &p.token, batch.clone())
        .await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    let statuses: Vec<_> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 422, 201, 422, 422]);
    assert_eq!(
        results[1]["problem"]["errors"][0]["field"],
        "scores.redness"
    );
    assert_eq!(results[2]["check_in"]["id"], batch["check_ins"][2]["id"]);
    assert_eq!(results[3]["id"], batch["check_ins"][3]["id"]);
    assert_eq!(stored_check_ins(&app), 2);

    // Retrying the whole batch after a lost answer stores nothing twice.
    let again = app.post("/v1/check-ins/batch", &p.token, batch).await;
    let statuses: Vec<_> = again.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 422, 200, 422, 422]);
    assert_eq!(stored_check_ins(&app), 2);
}

#[tokio::test]
async fn a_batch_holds_one_to_a_hundred_items() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let items: Vec<CheckIn> = (0..101)
        .map(|_| full_check_in(&p.treatment, Utc::now()))
        .collect();
    app.check_in_batch(&p.token, &items).await.problem(422);
    app.check_in_batch(&p.token, &[]).await.problem(422);
    let items: Vec<CheckIn> = (0..100)
        .map(|_| full_check_in(&p.treatment, Utc::now()))
        .collect();
    let r = app.check_in_batch(&p.token, &items).await;
    assert_eq!(r.ok(200)["results"].as_array().unwrap().len(), 100);
    assert_eq!(stored_check_ins(&app), 100);
    app.check_in_batch(&s.clinician, &[]).await.problem(403);
}

#[tokio::test]
async fn a_clinics_own_symptom_can_be_scored() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let item = json!({"code": "tightness", "label": "Tight skin", "kind": "presence"});
    app.post("/v1/symptoms", &s.clinic.admin, item)
        .await
        .ok(201);
    let tight = CheckIn {
        scores: json!({"tightness": 1}),
        ..full_check_in(&p.treatment, Utc::now())
    };
    app.check_in(&p.token, &tight).await.ok(201);
    let too_tight = CheckIn {
        id: Uuid::new_v4(),
        scores: json!({"tightness": 2}),
        ..tight
    };
    app.check_in(&p.token, &too_tight).await.problem(422);
}
