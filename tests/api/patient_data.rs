//! A patient's right to their data: the export holds everything the API shows, and erasure leaves
//! nothing but audit ids, with the audit chain intact and the recovery figures recomputed without
//! the patient.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{Value, json};

use aftercare::startup::Background;

use crate::helpers::*;

fn ids(items: &Value) -> Vec<String> {
    let mut ids: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Gives the scenario's first patient data of every kind: check-ins (one urgent, raising an alert
/// with evidence), a complication, an outcome; and a webhook that hears of the check-ins.
async fn with_data(app: &TestApp, s: &Scenario) {
    let admin = &s.clinic.admin;
    let hook = json!({"url": "https://hooks.clinic.example/aftercare", "events": ["check_in.created", "alert.raised", "patient.erased"]});
    app.post("/v1/webhooks", admin, hook).await.ok(201);
    for p in &s.patients {
        for (days, scores) in [
            (1, json!({"redness": 3, "swelling": 2})),
            (2, json!({"redness": 2, "infection": 1})),
        ] {
            let at = s.performed_at + Duration::days(days) - Duration::hours(1);
            let at = at.min(Utc::now());
            app.check_in(&p.token, &CheckIn::new(&p.treatment, at, scores))
                .await
                .ok(201);
        }
    }
    let p = &s.patients[0];
    let event = json!({"term": "infection", "grade": 2, "serious": false,
                       "onset_date": Utc::now().date_naive(), "outcome": "recovering"});
    app.post(
        &format!("/v1/treatments/{}/adverse-events", p.treatment),
        &s.clinician,
        event,
    )
    .await
    .ok(201);
    let outcome = json!({"assessed_on": Utc::now().date_naive(), "gais": 2, "satisfaction": 8});
    app.post(
        &format!("/v1/treatments/{}/outcomes", p.treatment),
        &p.token,
        outcome,
    )
    .await
    .ok(201);
}

#[tokio::test]
async fn the_export_holds_everything_the_api_shows() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    with_data(&app, &s).await;
    let p = &s.patients[0];
    let export_path = format!("/v1/patients/{}/export", p.id);
    // Another patient, or another clinic, can't have it.
    app.get(&export_path, &s.patients[1].token)
        .await
        .problem(404);
    let other = app.scenario("Other").await;
    app.get(&export_path, &other.clinician).await.problem(404);

    app.get(&export_path, &s.clinician).await.ok(200);
    // The trail's records about the patient so far, the clinician's export among them.
    let trail = app
        .get(
            &format!("/v1/audit-events?limit=200&patient_id={}", p.id),
            &s.clinic.admin,
        )
        .await;
    let trail = trail.ok(200)["items"].clone();
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "export")
    );
    let export = app.get(&export_path, &p.token).await.ok(200).clone();
    assert_eq!(ids(&export["audit_events"]), ids(&trail));

    let patient = app
        .get(&format!("/v1/patients/{}", p.id), &s.clinician)
        .await;
    let patient = patient.ok(200);
    for field in ["id", "external_ref", "fitzpatrick_type", "concerns"] {
        assert_eq!(export["patient"][field], patient[field], "{field}");
    }
    let list = |path: String| {
        let app = &app;
        let token = s.clinician.clone();
        async move { app.get(&path, &token).await.ok(200)["items"].clone() }
    };
    let treatments = list(format!("/v1/patients/{}/treatments", p.id)).await;
    assert_eq!(ids(&export["treatments"]), ids(&treatments));
    let check_ins = list(format!("/v1/patients/{}/check-ins", p.id)).await;
    assert_eq!(ids(&export["check_ins"]), ids(&check_ins));
    assert_eq!(check_ins.as_array().unwrap().len(), 2);
    for c in check_ins.as_array().unwrap() {
        let exported = export["check_ins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == c["id"])
            .unwrap();
        assert_eq!(exported["scores"], c["scores"], "{c}");
    }
    let alerts = list(format!("/v1/alerts?patient_id={}", p.id)).await;
    assert!(!alerts.as_array().unwrap().is_empty());
    assert_eq!(ids(&export["alerts"]), ids(&alerts));
    for a in export["alerts"].as_array().unwrap() {
        let shown = app
            .get(
                &format!("/v1/alerts/{}", a["id"].as_str().unwrap()),
                &s.clinician,
            )
            .await;
        let days = |items: &Value| -> Vec<(Value, Value)> {
            let items = items.as_array().unwrap().iter();
            items
                .map(|e| (e["check_in_id"].clone(), e["day"].clone()))
                .collect()
        };
        assert_eq!(days(&a["evidence"]), days(&shown.ok(200)["evidence"]));
    }
    let complications = list(format!("/v1/treatments/{}/adverse-events", p.treatment)).await;
    assert_eq!(ids(&export["adverse_events"]), ids(&complications));
    let outcomes = list(format!("/v1/treatments/{}/outcomes", p.treatment)).await;
    assert_eq!(ids(&export["outcomes"]), ids(&outcomes));
    assert_eq!(export["enrollment_codes"].as_array().unwrap().len(), 1);
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
    let text = export.to_string();
    for secret in ["hash", "refresh_token", "code_hash", "token_hash"] {
        assert!(!text.contains(secret), "{secret}");
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, id: &str) -> i64 {
    diesel::sql_query(sql)
        .bind::<Text, _>(id)
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

#[tokio::test]
async fn erasure_leaves_nothing_but_audit_ids() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    with_data(&app, &s).await;
    let (p, kept) = (&s.patients[0], &s.patients[1]);
    let protocol_view = format!("/v1/protocols/{}/recovery", s.protocol);
    let before = app.get(&protocol_view, &s.clinician).await.ok(200).clone();
    assert_eq!(before["treatments"], 2, "{before}");

    let path = format!("/v1/patients/{}/erasure", p.id);
    app.post(&path, &s.clinician, json!({"reason": "asked"}))
        .await
        .problem(403);
    let r = app
        .post(&path, &s.clinic.admin, json!({"reason": "  "}))
        .await;
    r.problem(422);
    let reason = "Patient's written request of 2026-11-28";
    let r = app
        .post(&path, &s.clinic.admin, json!({"reason": reason}))
        .await;
    assert_eq!(r.ok(200)["reason"], reason);
    app.post(&path, &s.clinic.admin, json!({"reason": reason}))
        .await
        .problem(404);

    // Nothing of the patient is left in any table but the audit trail and the erasure's record.
    let mut conn = app.db();
    let id = p.id.as_str();
    for (table, sql) in [
        (
            "patients",
            "SELECT count(*) AS n FROM patients WHERE id::text = $1",
        ),
        (
            "treatments",
            "SELECT count(*) AS n FROM treatments WHERE patient_id::text = $1",
        ),
        (
            "check_ins",
            "SELECT count(*) AS n FROM check_ins WHERE patient_id::text = $1",
        ),
        (
            "check_in_scores",
            "SELECT count(*) AS n FROM check_in_scores s WHERE NOT EXISTS (SELECT 1 FROM check_ins c WHERE c.id = s.check_in_id) AND $1 <> ''",
        ),
        (
            "alerts",
            "SELECT count(*) AS n FROM alerts WHERE patient_id::text = $1",
        ),
        (
            "alert_evidence",
            "SELECT count(*) AS n FROM alert_evidence e WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = e.alert_id) AND $1 <> ''",
        ),
        (
            "adverse_events",
            "SELECT count(*) AS n FROM adverse_events WHERE patient_id::text = $1",
        ),
        (
            "outcomes",
            "SELECT count(*) AS n FROM outcomes WHERE patient_id::text = $1",
        ),
        (
            "enrollment_codes",
            "SELECT count(*) AS n FROM enrollment_codes WHERE patient_id::text = $1",
        ),
        (
            "refresh_tokens",
            "SELECT count(*) AS n FROM refresh_tokens WHERE patient_id::text = $1",
        ),
        (
            "webhook_events",
            "SELECT count(*) AS n FROM webhook_events WHERE payload::text LIKE '%' || $1 || '%' AND type <> 'patient.erased'",
        ),
    ] {
        assert_eq!(count(&mut conn, sql, id), 0, "{table}");
    }
    // Every other row naming the patient anywhere: only the trail and the erasure's record.
    let tables: Vec<String> = diesel::sql_query(
        "SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load::<TableName>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|t| t.n)
    .collect();
    for table in tables {
        let n = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM {table} t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'"
            ),
            id,
        );
        // The webhooks' `patient.erased` event names the id alone (checked above and below).
        let allowed =
            ["audit_events", "patient_erasures", "webhook_events"].contains(&table.as_str());
        assert!(
            allowed || n == 0,
            "{table} still names the patient {n} times"
        );
    }
    let erased = count(
        &mut conn,
        "SELECT count(*) AS n FROM webhook_events WHERE type = 'patient.erased' AND payload -> 'data' = json_build_object('patient_id', $1)::jsonb",
        id,
    );
    assert_eq!(erased, 1);
    let erasures = count(
        &mut conn,
        "SELECT count(*) AS n FROM patient_erasures WHERE patient_id::text = $1 AND reason <> ''",
        id,
    );
    assert_eq!(erasures, 1);
    // The trail keeps its records, the erasure's among them, and its chain holds.
    let trail = app
        .get(
            &format!("/v1/audit-events?limit=200&patient_id={}", p.id),
            &s.clinic.admin,
        )
        .await;
    let trail = trail.ok(200)["items"].clone();
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "erase")
    );
    assert!(trail.as_array().unwrap().len() > 5);
    let url = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        aftercare::workers::audit_sealing::seal(&mut conn, 1000).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
            .args(["admin", "verify-audit"])
            .env("DATABASE_URL", url)
            .output()
            .expect("run aftercare")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The patient's phone is out, and the patient is gone from every view.
    app.get(&format!("/v1/patients/{}", p.id), &p.token)
        .await
        .problem(401);
    app.get(&format!("/v1/patients/{}", p.id), &s.clinician)
        .await
        .problem(404);
    let after = app.get(&protocol_view, &s.clinician).await.ok(200).clone();
    assert_eq!(after["treatments"], 1, "{after}");
    // The figures equal a recomputation without the patient: a new server loads them afresh.
    let fresh = app.another_instance(Background::default());
    let kept_view = format!("/v1/patients/{}/recovery", kept.id);
    for path in [protocol_view.as_str(), kept_view.as_str(), "/v1/dashboard"] {
        let ours = app.get(path, &s.clinician).await.ok(200).clone();
        let recomputed = fresh.get(path, &s.clinician).await.ok(200).clone();
        assert_eq!(ours, recomputed, "{path}");
    }
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    n: String,
}
