use aftercare::config::HttpSettings;
use aftercare::startup::Background;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// A treatment performed `days_ago` days ago, early in the clinic's day (at 01:00 Berlin time, or
/// a minute ago if that is later), so that check-ins an hour or so after it fall on the same day.
async fn treated(
    app: &TestApp,
    s: &Scenario,
    patient: usize,
    days_ago: i64,
) -> (String, DateTime<Utc>) {
    let now = Utc::now();
    let berlin = now.with_timezone(&chrono_tz::Europe::Berlin);
    let early = berlin
        .date_naive()
        .and_hms_opt(1, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono_tz::Europe::Berlin).earliest())
        .map_or(now, |t| t.with_timezone(&Utc));
    let at = early.min(now - Duration::minutes(1)) - Duration::days(days_ago);
    let t = app
        .treatment(&s.clinician, &s.patients[patient].id, &s.protocol, at)
        .await;
    (t, at)
}

fn rules(receipt: &Value) -> Vec<String> {
    receipt["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_noisy_ordinary_recovery_raises_nothing() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let (t, at) = treated(&app, &s, 0, 7).await;
    let token = &s.patients[0].token;
    // Very severe redness on the treatment day (expected after deeper needling); ratings that go
    // up and down by a step as they fade; flaking and itching peaking on days 3-4.
    let days = [
        json!({"redness": 4, "swelling": 3, "pain": 3, "infection": 0, "fever": 0}),
        json!({"redness": 2, "swelling": 1, "pain": 1}),
        json!({"redness": 3, "swelling": 2, "pain": 2, "flaking": 2, "itching": 1}),
        json!({"redness": 2, "swelling": 1, "pain": 1, "flaking": 3, "itching": 2}),
        json!({"redness": 1, "swelling": 0, "pain": 2, "flaking": 2, "itching": 3}),
        json!({"redness": 1, "swelling": 1, "pain": 0, "flaking": 1}),
        json!({"redness": 0, "breakout": 1}),
        json!({"redness": 1, "darkening": 0, "blisters": 0}),
    ];
    for (day, scores) in days.iter().enumerate() {
        let check_in = CheckIn::new(&t, at + Duration::days(day as i64), scores.clone());
        let r = app.check_in(token, &check_in).await;
        let receipt = r.ok(201);
        assert_eq!(receipt["alerts"], json!([]), "day {day}");
        assert_eq!(receipt["contact_clinic"], false);
        assert!(receipt.get("message").is_none());
    }
    assert_eq!(
        app.get("/v1/alerts", &s.clinician).await.ok(200)["items"],
        json!([])
    );
    // Pain that severe is a red flag even on the treatment day.
    let (t, at) = treated(&app, &s, 1, 0).await;
    let check_in = CheckIn::new(
        &t,
        at + Duration::seconds(30),
        json!({"pain": 4, "redness": 4}),
    );
    let r = app.check_in(&s.patients[1].token, &check_in).await;
    assert_eq!(rules(r.ok(201)), ["very_severe"]);
    assert_eq!(r.body["alerts"][0]["level"], "urgent");
    assert_eq!(r.body["contact_clinic"], true);
}

/// A patient of `protocol` treated at `at`, whose phone sends `days` (the scores of days 0, 1, ...)
/// as one batch that raises nothing; the patient, the treatment and the phone's token.
async fn recovering(
    app: &TestApp,
    clinician: &str,
    protocol: &str,
    at: DateTime<Utc>,
    days: &[Value],
) -> (String, String, String) {
    let (patient, treatment, token, results) = reporting(app, clinician, protocol, at, days).await;
    for result in results {
        assert_eq!(result["check_in"]["alerts"], json!([]), "{result}");
    }
    (patient, treatment, token)
}

/// As `recovering`, whatever the batch raises; its results too.
async fn reporting(
    app: &TestApp,
    clinician: &str,
    protocol: &str,
    at: DateTime<Utc>,
    days: &[Value],
) -> (String, String, String, Vec<Value>) {
    let patient = app
        .patient(clinician, &format!("MRN-{}", Uuid::new_v4()))
        .await;
    let treatment = app.treatment(clinician, &patient, protocol, at).await;
    let (token, _) = app.enroll(clinician, &patient).await;
    let check_ins: Vec<CheckIn> = days
        .iter()
        .enumerate()
        .map(|(d, scores)| CheckIn::new(&treatment, at + Duration::days(d as i64), scores.clone()))
        .collect();
    if check_ins.is_empty() {
        return (patient, treatment, token, vec![]);
    }
    let r = app.check_in_batch(&token, &check_ins).await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    for result in &results {
        assert_eq!(result["status"], 201, "{result}");
    }
    (patient, treatment, token, results)
}

#[tokio::test]
async fn slower_than_its_protocols_patients_is_raised_once_and_shown_everywhere() {
    let app = spawn_app().await;
    let clinic = app.clinic("Slowpoke Skin", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let at = Utc::now() - Duration::days(7) - Duration::hours(1);
    // 21 patients whose redness clears by day 3 (two in three by day 2), so 90% have resolved
    // by day 3: the protocol's usual resolution day for redness.
    let mut others = vec![];
    for i in 0..21 {
        let days: Vec<Value> = [[2, 1, 0, 0], [2, 2, 1, 0], [3, 1, 0, 0]][i % 3]
            .iter()
            .map(|r| json!({"redness": r, "infection": 0}))
            .collect();
        others.push(recovering(&app, &clinician, &protocol, at, &days).await);
    }
    // The views read what is committed; the check-in path may lag them by a second.
    let view = app
        .get(&format!("/v1/protocols/{protocol}/recovery"), &clinician)
        .await;
    assert_eq!(view.ok(200)["symptoms"][0]["resolution"]["p90_day"], 3);

    let (patient, treatment, token) = recovering(&app, &clinician, &protocol, at, &[]).await;
    let post = async |day: i64, redness: i64| {
        let check_in = CheckIn::new(
            &treatment,
            at + Duration::days(day),
            json!({"redness": redness}),
        );
        rules(app.check_in(&token, &check_in).await.ok(201))
    };
    // Mild redness on day 3 is not yet slower than usual; on day 4 it is, and day 5 adds to it.
    for (day, redness) in [(0, 3), (1, 2), (2, 2), (3, 1)] {
        assert_eq!(post(day, redness).await, Vec::<String>::new(), "day {day}");
    }
    assert_eq!(post(4, 1).await, ["slower_than_peers"]);
    assert_eq!(post(5, 1).await, ["slower_than_peers"]);
    let queue = app.get("/v1/alerts", &clinician).await;
    let items = queue.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["rule"], "slower_than_peers");
    assert_eq!(items[0]["treatment_id"], treatment);
    assert_eq!(items[0]["evidence_count"], 2);

    // The patient view and the dashboard say "slower than usual" for this patient and no one else.
    let view = app
        .get(&format!("/v1/patients/{patient}/recovery"), &clinician)
        .await;
    let redness = &view.ok(200)["treatments"][0]["symptoms"][0];
    assert_eq!(redness["code"], "redness");
    assert_eq!(redness["usual_resolution_day"], 3);
    assert_eq!(redness["slower_than_usual"], true);
    for (other, _, _) in others.iter().take(3) {
        let view = app
            .get(&format!("/v1/patients/{other}/recovery"), &clinician)
            .await;
        assert_eq!(
            view.ok(200)["treatments"][0]["symptoms"][0]["slower_than_usual"],
            false
        );
    }
    let dashboard = app.get("/v1/dashboard", &clinician).await;
    let slow = dashboard.ok(200)["slower_than_usual"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(slow.len(), 1, "{slow:?}");
    assert_eq!(slow[0]["treatment_id"], treatment);
    assert_eq!(slow[0]["symptoms"], json!(["redness"]));

    // Raised at most once per treatment: once resolved, it is not raised again.
    let id = items[0]["id"].as_str().unwrap();
    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        &clinician,
        json!({"note": "Reviewed: healing, seen in clinic."}),
    )
    .await
    .ok(200);
    assert_eq!(post(6, 1).await, Vec::<String>::new());
}

/// Redness rated `scores` on days 0, 1, ...
fn redness(scores: &[i64]) -> Vec<Value> {
    scores.iter().map(|r| json!({"redness": r})).collect()
}

/// The treatments each place names "slower than usual": the dashboard's card, the patient list's
/// rows, the patient views (of `patients`) and the open `slower_than_peers` alerts.
async fn slower_everywhere(
    app: &TestApp,
    clinician: &str,
    patients: &[(&str, &str)],
) -> [Vec<String>; 4] {
    let texts = |v: &Value, key: &str| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[key].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let dashboard = app.get("/v1/dashboard", clinician).await;
    let card = texts(&dashboard.ok(200)["slower_than_usual"], "treatment_id");
    let rows = app.get("/v1/patients?slower=true", clinician).await;
    let rows: Vec<String> = rows.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            patients
                .iter()
                .find(|(id, _)| p["id"] == *id)
                .unwrap()
                .1
                .to_string()
        })
        .collect();
    let mut views = vec![];
    for (patient, treatment) in patients {
        let view = app
            .get(&format!("/v1/patients/{patient}/recovery"), clinician)
            .await;
        let symptoms = view.ok(200)["treatments"][0]["symptoms"].clone();
        if symptoms
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["slower_than_usual"] == true)
        {
            views.push(treatment.to_string());
        }
    }
    let alerts = app.get("/v1/alerts?status=open&limit=200", clinician).await;
    let peers: Vec<Value> = alerts.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "slower_than_peers")
        .cloned()
        .collect();
    let alerts = texts(&json!(peers), "treatment_id");
    let mut rows = rows;
    rows.sort();
    views.sort();
    [card, rows, views, alerts]
}

/// Runs `slower_than_peers`' upkeep on a store of its own.
fn peers_now(app: &TestApp) -> aftercare::workers::peers::Changes {
    let store = aftercare::read_model::Store::new();
    aftercare::workers::peers::run_once(&mut app.db(), &store, Utc::now()).unwrap()
}

#[tokio::test]
async fn slower_than_usual_means_one_thing_as_the_cohort_grows() {
    // Sixty-three phones are enrolled from this one address within the minute.
    let http = HttpSettings {
        auth_attempts_per_minute: 100,
        ..HttpSettings::default()
    };
    let app = spawn_app_with(http, Background::default()).await;
    let clinic = app.clinic("Second Look Skin", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let at = Utc::now() - Duration::days(7) - Duration::hours(1);
    // Z reports mild redness to day 4 before the protocol has a cohort to compare with: no alert.
    let z = recovering(&app, &clinician, &protocol, at, &redness(&[2, 1, 1, 1, 1])).await;
    // Then 30 patients whose redness clears on day 2: that is now the usual day, and Z, still
    // red after it, became slower than usual without a check-in. The upkeep raises it.
    for _ in 0..30 {
        recovering(&app, &clinician, &protocol, at, &redness(&[2, 1, 0])).await;
    }
    let changes = peers_now(&app);
    assert_eq!((changes.raised, changes.withdrawn), (1, 0));
    // The views read what is committed; the check-in path may lag them by a second.
    let view = app
        .get(&format!("/v1/protocols/{protocol}/recovery"), &clinician)
        .await;
    assert_eq!(view.ok(200)["symptoms"][0]["resolution"]["p90_day"], 2);
    // X is red to day 4 (raised on day 3 by the check-in); Y too, but clear on day 4.
    let x = reporting(&app, &clinician, &protocol, at, &redness(&[2, 1, 1, 1, 1])).await;
    let y = reporting(&app, &clinician, &protocol, at, &redness(&[2, 1, 1, 1, 0])).await;
    assert_eq!(rules(&x.3[3]["check_in"]), ["slower_than_peers"]);
    assert_eq!(rules(&y.3[3]["check_in"]), ["slower_than_peers"]);
    // Y resolved: withdrawn, and history now ("was slower until day 3"), not a flag.
    let changes = peers_now(&app);
    assert_eq!((changes.raised, changes.withdrawn), (0, 1));
    let patients = [
        (z.0.as_str(), z.1.as_str()),
        (x.0.as_str(), x.1.as_str()),
        (y.0.as_str(), y.1.as_str()),
    ];
    let mut slow = vec![z.1.clone(), x.1.clone()];
    slow.sort();
    let [card, rows, views, alerts] = slower_everywhere(&app, &clinician, &patients).await;
    assert_eq!(
        (&card, &rows, &views, &alerts),
        (&slow, &slow, &slow, &slow)
    );
    let view = app
        .get(&format!("/v1/patients/{}/recovery", y.0), &clinician)
        .await;
    let y_redness = &view.ok(200)["treatments"][0]["symptoms"][0];
    assert_eq!(
        (
            &y_redness["slower_than_usual"],
            &y_redness["slower_until_day"],
            &y_redness["resolved_day"]
        ),
        (&json!(false), &json!(3), &json!(4))
    );
    let resolved = app.get("/v1/alerts?status=resolved", &clinician).await;
    let withdrawn = &resolved.ok(200)["items"][0];
    assert_eq!(
        (&withdrawn["rule"], &withdrawn["treatment_id"]),
        (&json!("slower_than_peers"), &json!(y.1))
    );
    assert_eq!(
        withdrawn["history"].as_array().unwrap().last().unwrap()["event"],
        "withdrawn"
    );

    // The cohort grows: 30 more patients clear their redness only on day 6, so the usual day
    // moves to 6. Neither X nor Z is slower than usual any more, anywhere; their alerts, and
    // those the newcomers' own check-ins raised on days 3-5, are withdrawn.
    for _ in 0..30 {
        reporting(
            &app,
            &clinician,
            &protocol,
            at,
            &redness(&[2, 1, 1, 1, 1, 1, 0]),
        )
        .await;
    }
    let view = app
        .get(&format!("/v1/patients/{}/recovery", x.0), &clinician)
        .await;
    let x_redness = &view.ok(200)["treatments"][0]["symptoms"][0];
    assert_eq!(x_redness["usual_resolution_day"], 6);
    // The cohort's band runs over every day it has figures for, beyond X's last report (day 4).
    let band: Vec<u64> = x_redness["cohort"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_u64().unwrap())
        .collect();
    assert_eq!(band, (0..=6).collect::<Vec<u64>>());
    assert_eq!(x_redness["days"].as_array().unwrap().len(), 5);
    let changes = peers_now(&app);
    assert_eq!(changes.raised, 0);
    assert!(changes.withdrawn >= 2, "{changes:?}");
    let none: Vec<String> = vec![];
    let [card, rows, views, alerts] = slower_everywhere(&app, &clinician, &patients).await;
    assert_eq!(
        (&card, &rows, &views, &alerts),
        (&none, &none, &none, &none)
    );
    // A withdrawn alert does not stop the rule: were Z to stay red past the usual day, it would be
    // raised again (the upkeep raises nothing now because nothing is slower).
    assert_eq!(
        peers_now(&app),
        aftercare::workers::peers::Changes::default()
    );
}

#[tokio::test]
async fn an_urgent_sign_tells_the_patient_and_joins_the_open_alert() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let first = CheckIn::new(
        &p.treatment,
        Utc::now() - Duration::hours(2),
        json!({"infection": 1, "redness": 2}),
    );
    let r = app.check_in(&p.token, &first).await;
    let receipt = r.ok(201).clone();
    assert_eq!(rules(&receipt), ["infection_signs"]);
    assert_eq!(receipt["alerts"][0]["level"], "urgent");
    assert_eq!(receipt["contact_clinic"], true);
    assert!(
        receipt["message"]
            .as_str()
            .unwrap()
            .contains("contact your clinic")
    );
    // Sent again: the same answer, and nothing new.
    let again = app.check_in(&p.token, &first).await;
    assert_eq!(again.ok(200)["alerts"], receipt["alerts"]);

    let second = CheckIn::new(&p.treatment, Utc::now(), json!({"infection": 2}));
    let second = app.check_in(&p.token, &second).await;
    assert_eq!(
        second.ok(201)["alerts"][0]["id"],
        receipt["alerts"][0]["id"]
    );
    let alert = app
        .get(
            &format!(
                "/v1/alerts/{}",
                receipt["alerts"][0]["id"].as_str().unwrap()
            ),
            &s.clinician,
        )
        .await;
    let alert = alert.ok(200);
    assert_eq!(alert["rule"], "infection_signs");
    assert_eq!(alert["status"], "open");
    assert_eq!(alert["patient_id"], p.id);
    assert_eq!(alert["evidence_count"], 2);
    assert_eq!(alert["evidence"][0]["detail"], json!({"infection": 1}));
    assert_eq!(alert["evidence"][1]["detail"], json!({"infection": 2}));
    assert_eq!(alert["history"][0]["event"], "raised");
}

#[tokio::test]
async fn each_rule_is_raised_by_the_check_ins_that_meet_it() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let (t, at) = treated(&app, &s, 1, 8).await;
    let token = &s.patients[1].token;
    let app = &app;
    let post = |day: i64, minutes: i64, scores: Value| {
        let check_in = CheckIn::new(
            &t,
            at + Duration::days(day) + Duration::minutes(minutes),
            scores,
        );
        async move { app.check_in(token, &check_in).await.ok(201).clone() }
    };
    assert_eq!(rules(&post(0, 10, json!({"fever": 1})).await), ["fever"]);
    assert_eq!(
        rules(&post(1, 10, json!({"blisters": 1, "bruising": 4})).await),
        ["blisters", "very_severe"]
    );
    assert_eq!(
        rules(&post(2, 10, json!({"pain": 3, "swelling": 1, "redness": 0})).await),
        Vec::<String>::new()
    );
    assert_eq!(
        rules(&post(3, 10, json!({"pain": 3})).await),
        ["severe_persisting"]
    );
    // One step above the lowest since day 1 is a rating's wobble; two steps is worsening.
    assert_eq!(
        rules(&post(3, 20, json!({"swelling": 2})).await),
        Vec::<String>::new()
    );
    assert_eq!(
        rules(&post(3, 30, json!({"redness": 2})).await),
        ["worsening"]
    );
    assert_eq!(
        rules(&post(4, 10, json!({"swelling": 2})).await),
        ["slow_recovery"]
    );
    assert_eq!(
        rules(&post(7, 10, json!({"breakout": 2, "swelling": 0})).await),
        ["late_reaction"]
    );
    let queue = app.get("/v1/alerts", &s.clinician).await;
    let levels: Vec<&str> = queue.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["level"].as_str().unwrap())
        .collect();
    // Urgent first, then high, then normal; oldest first within a level.
    assert_eq!(
        levels,
        [
            "urgent", "urgent", "urgent", "high", "high", "normal", "normal"
        ]
    );
    let mut in_order: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    // Blisters and very severe came with the same check-in, so either may come first.
    in_order[1..3].sort();
    assert_eq!(&in_order[..3], ["fever", "blisters", "very_severe"]);
}

#[tokio::test]
async fn clinicians_acknowledge_and_resolve_alerts() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let fever = CheckIn::new(&p.treatment, Utc::now(), json!({"fever": 1}));
    let r = app.check_in(&p.token, &fever).await;
    let id = r.ok(201)["alerts"][0]["id"].as_str().unwrap().to_string();
    let me = app.get("/v1/me", &s.clinician).await.ok(200)["user_id"].clone();

    let acked = app
        .post(
            &format!("/v1/alerts/{id}/acknowledge"),
            &s.clinician,
            json!(null),
        )
        .await;
    assert_eq!(acked.ok(200)["status"], "acknowledged");
    assert_eq!(acked.body["history"][1]["by"], me);
    let again = app
        .post(
            &format!("/v1/alerts/{id}/acknowledge"),
            &s.clinic.admin,
            json!(null),
        )
        .await;
    assert_eq!(again.ok(200)["history"][1]["by"], me);

    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        &s.clinician,
        json!({"note": "  "}),
    )
    .await
    .problem(422);
    app.post(&format!("/v1/alerts/{id}/resolve"), &s.clinician, json!({}))
        .await
        .problem(422);
    let resolved = app
        .post(
            &format!("/v1/alerts/{id}/resolve"),
            &s.clinician,
            json!({"note": "Called; paracetamol, review tomorrow.", "action": "contacted_patient"}),
        )
        .await;
    let resolved = resolved.ok(200);
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["history"][2]["action"], "contacted_patient");
    assert_eq!(
        resolved["history"][2]["note"],
        "Called; paracetamol, review tomorrow."
    );
    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        &s.clinician,
        json!({"note": "again"}),
    )
    .await
    .problem(409);
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        &s.clinician,
        json!(null),
    )
    .await
    .problem(409);

    // A new fever after resolution is a new alert.
    let fever = CheckIn::new(&p.treatment, Utc::now(), json!({"fever": 1}));
    let r = app.check_in(&p.token, &fever).await;
    assert_ne!(r.ok(201)["alerts"][0]["id"], id.as_str());
    let open = app.get("/v1/alerts?status=open", &s.clinician).await;
    assert_eq!(open.ok(200)["items"].as_array().unwrap().len(), 1);
    let resolved = app
        .get(
            &format!(
                "/v1/alerts?status=resolved&level=urgent&patient_id={}",
                p.id
            ),
            &s.clinician,
        )
        .await;
    assert_eq!(resolved.ok(200)["items"][0]["id"], id.as_str());
    assert_eq!(
        app.get("/v1/alerts?level=normal", &s.clinician)
            .await
            .ok(200)["items"],
        json!([])
    );
    app.get("/v1/alerts?status=closed", &s.clinician)
        .await
        .problem(400);
}

#[tokio::test]
async fn alerts_stay_inside_their_clinic() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let p = &s.patients[0];
    let fever = CheckIn::new(&p.treatment, Utc::now(), json!({"fever": 1}));
    let r = app.check_in(&p.token, &fever).await;
    let id = r.ok(201)["alerts"][0]["id"].as_str().unwrap().to_string();
    app.get(&format!("/v1/alerts/{id}"), &other.clinician)
        .await
        .problem(404);
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        &other.clinician,
        json!(null),
    )
    .await
    .problem(404);
    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        &other.clinician,
        json!({"note": "x"}),
    )
    .await
    .problem(404);
    assert_eq!(
        app.get("/v1/alerts", &other.clinician).await.ok(200)["items"],
        json!([])
    );
    app.get("/v1/alerts", &p.token).await.problem(403);
    app.get(&format!("/v1/alerts/{id}"), &p.token)
        .await
        .problem(403);
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        &p.token,
        json!(null),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn a_check_in_and_its_alerts_are_stored_together_or_not_at_all() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = CheckIn::new(&p.treatment, Utc::now(), json!({"infection": 2}));
    // Break the alert tables: storing the alert fails, and the check-in must not be kept without it.
    diesel::sql_query("ALTER TABLE alert_evidence RENAME TO alert_evidence_away")
        .execute(&mut app.db())
        .unwrap();
    app.check_in(&p.token, &check_in).await.problem(500);
    let count = || {
        use aftercare::db::schema::check_ins::dsl::*;
        check_ins.count().get_result::<i64>(&mut app.db()).unwrap()
    };
    assert_eq!(count(), 0);
    // The app retries once the database is whole again: both are stored.
    diesel::sql_query("ALTER TABLE alert_evidence_away RENAME TO alert_evidence")
        .execute(&mut app.db())
        .unwrap();
    let r = app.check_in(&p.token, &check_in).await;
    assert_eq!(rules(r.ok(201)), ["infection_signs"]);
    assert_eq!(count(), 1);
}

#[tokio::test]
async fn a_batch_raises_alerts_per_item() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let batch = [
        CheckIn::new(
            &p.treatment,
            Utc::now() - Duration::hours(3),
            json!({"redness": 1}),
        ),
        CheckIn::new(
            &p.treatment,
            Utc::now() - Duration::hours(2),
            json!({"blisters": 1}),
        ),
    ];
    let r = app.check_in_batch(&p.token, &batch).await;
    let results = r.ok(200)["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["check_in"]["alerts"], json!([]));
    assert_eq!(rules(&results[1]["check_in"]), ["blisters"]);
    assert_eq!(results[1]["check_in"]["contact_clinic"], true);
}

/// Runs the silence job as of `now` (a test clock) on a store of its own.
fn silence_at(conn: &mut PgConnection, now: DateTime<Utc>) -> usize {
    let store = aftercare::read_model::Store::new();
    aftercare::workers::silence::run_once(conn, &store, now).unwrap()
}

#[tokio::test]
async fn the_silence_rules_on_a_test_clock_from_one_instance() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    // Treated four days ago: days 0-3 have passed.
    let (bad, bad_at) = treated(&app, &s, 0, 4).await;
    let (mild, mild_at) = treated(&app, &s, 0, 4).await;
    let (reminded, _) = treated(&app, &s, 0, 4).await;
    let (gone, gone_at) = treated(&app, &s, 1, 4).await;
    let (p0, p1) = (&s.patients[0].token, &s.patients[1].token);
    let post = async |token: &str, t: &str, at: DateTime<Utc>, day: i64, scores: Value| {
        let check_in = CheckIn::new(t, at + Duration::days(day), scores);
        app.check_in(token, &check_in).await.ok(201);
    };
    // Pain rated 3 on day 1, then nothing on days 2 and 3; the nearest quiet case rated it 2.
    post(p0, &bad, bad_at, 0, json!({"redness": 2})).await;
    post(p0, &bad, bad_at, 1, json!({"pain": 3})).await;
    post(p0, &mild, mild_at, 0, json!({"redness": 2})).await;
    post(p0, &mild, mild_at, 1, json!({"pain": 2})).await;
    // Only day 0, then three days missed.
    post(p1, &gone, gone_at, 0, json!({"redness": 1})).await;
    // Patient 0 turned reminders on: their silence is an alert only once a reminder went
    // unanswered.
    let mut conn = app.db();
    diesel::sql_query(format!(
        "INSERT INTO push_subscriptions (id, clinic_id, patient_id, endpoint, p256dh, auth, language)
         SELECT gen_random_uuid(), clinic_id, id, 'https://push.example/1', decode(repeat('04', 65), 'hex'), decode(repeat('00', 16), 'hex'), 'en'
           FROM patients WHERE id = '{}'",
        s.patients[0].id
    ))
    .execute(&mut conn)
    .unwrap();

    // Another instance holds the job: this one stands aside.
    let lock = aftercare::workers::silence::JOB_LOCK;
    let mut other = app.db();
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})"))
        .execute(&mut other)
        .unwrap();
    assert_eq!(silence_at(&mut conn, Utc::now()), 0);
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})"))
        .execute(&mut other)
        .unwrap();

    // The bad report gone quiet, and the three missed days; not the scenario's treatments of two
    // days ago, whose patients missed only two.
    assert_eq!(silence_at(&mut conn, Utc::now()), 2);
    assert_eq!(
        silence_at(&mut conn, Utc::now()),
        0,
        "a second run adds nothing"
    );
    let queue = app.get("/v1/alerts?limit=200", &s.clinician).await;
    let items = queue.ok(200)["items"].as_array().unwrap().clone();
    let of = |treatment: &str| -> Vec<Value> {
        items
            .iter()
            .filter(|a| a["treatment_id"] == treatment)
            .cloned()
            .collect()
    };
    let silent = of(&bad);
    assert_eq!(silent.len(), 1, "{silent:#?}");
    assert_eq!(silent[0]["rule"], "silent_after_bad_report");
    assert_eq!(silent[0]["level"], "high");
    assert_eq!(
        silent[0]["evidence"][0]["detail"],
        json!({"missed_days": [2, 3]})
    );
    assert_eq!(of(&mild), Vec::<Value>::new(), "pain 2 is no bad report");
    assert_eq!(of(&reminded), Vec::<Value>::new(), "not reminded yet");
    let missed = of(&gone);
    assert_eq!(missed.len(), 1, "{missed:#?}");
    assert_eq!(missed[0]["rule"], "missed_check_ins");
    assert_eq!(missed[0]["level"], "normal");
    assert_eq!(missed[0]["evidence_count"], 1);
    assert_eq!(
        missed[0]["evidence"][0]["detail"],
        json!({"missed_days": [1, 2, 3]})
    );

    // Reminded on day 3 and still silent.
    diesel::sql_query(format!(
        "INSERT INTO reminders (treatment_id, day, clinic_id)
         SELECT id, 3, clinic_id FROM treatments WHERE id = '{reminded}'"
    ))
    .execute(&mut conn)
    .unwrap();
    assert_eq!(silence_at(&mut conn, Utc::now()), 1);
    let queue = app
        .get("/v1/alerts?level=normal&limit=200", &s.clinician)
        .await;
    let reminded_alerts: Vec<&Value> = queue.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["treatment_id"] == reminded.as_str())
        .collect();
    assert_eq!(reminded_alerts.len(), 1);

    // Tomorrow, the scenario's patient without reminders has missed days 0-2 too.
    assert_eq!(silence_at(&mut conn, Utc::now() + Duration::days(1)), 1);
    let queue = app
        .get("/v1/alerts?level=normal&limit=200", &s.clinician)
        .await;
    let theirs: Vec<&Value> = queue.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["treatment_id"] == s.patients[1].treatment.as_str())
        .collect();
    assert_eq!(
        theirs[0]["evidence"][0]["detail"],
        json!({"missed_days": [0, 1, 2]})
    );
}

#[tokio::test]
async fn a_clinic_sees_its_alert_burden() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let (p0, p1) = (&s.patients[0], &s.patients[1]);
    let post = async |p: &Patient, scores: Value| {
        let r = app
            .check_in(&p.token, &CheckIn::new(&p.treatment, Utc::now(), scores))
            .await;
        r.ok(201)["alerts"].as_array().unwrap().clone()
    };
    let raised = post(p0, json!({"fever": 1, "pain": 4})).await;
    let fever = raised.iter().find(|a| a["rule"] == "fever").unwrap()["id"].clone();
    let infection = post(p1, json!({"infection": 2})).await[0]["id"].clone();
    post(&other.patients[0], json!({"fever": 1})).await;
    let resolve = async |id: &Value, body: Value| {
        let path = format!("/v1/alerts/{}/resolve", id.as_str().unwrap());
        app.post(&path, &s.clinician, body).await.ok(200);
    };
    resolve(
        &fever,
        json!({"note": "Called.", "action": "contacted_patient"}),
    )
    .await;
    resolve(
        &infection,
        json!({"note": "Photo looked fine.", "action": "no_action"}),
    )
    .await;
    app.post(
        &format!("/v1/alerts/{}/resolve", infection.as_str().unwrap()),
        &s.clinician,
        json!({"note": "x", "action": "phoned"}),
    )
    .await
    .problem(422);

    let b = app.get("/v1/alerts/burden", &s.clinician).await;
    let b = b.ok(200);
    // Two treatments performed two days ago, both in follow-up (to day 28) since: 4/7 of a week.
    let weeks = b["patient_weeks"].as_f64().unwrap();
    assert!((0.57..=0.58).contains(&weeks), "{weeks}");
    let rule = |code: &str| {
        b["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == code)
            .cloned()
            .unwrap()
    };
    let f = rule("fever");
    assert_eq!(
        (
            &f["alerts"],
            &f["resolved"],
            &f["led_to_action"],
            &f["no_action"],
            &f["action_share"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(0), &json!(1.0))
    );
    let per_100 = f["per_100_patient_weeks"].as_f64().unwrap();
    assert!(
        (per_100 - 100.0 / weeks).abs() < 1.0,
        "{per_100} against {weeks} weeks"
    );
    let v = rule("very_severe");
    assert_eq!(
        (&v["alerts"], &v["resolved"], &v["action_share"]),
        (&json!(1), &json!(0), &Value::Null)
    );
    assert_eq!(rule("infection_signs")["no_action"], 1);
    assert_eq!(rule("missed_check_ins")["alerts"], 0);
    assert_eq!(b["rules"].as_array().unwrap().len(), 11);
    assert_eq!(
        (
            &b["all"]["alerts"],
            &b["all"]["resolved"],
            &b["all"]["action_share"]
        ),
        (&json!(3), &json!(2), &json!(0.5))
    );
    app.get("/v1/alerts/burden", &p0.token).await.problem(403);
}
