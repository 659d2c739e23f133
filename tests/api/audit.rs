use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

/// Seals what the requests recorded, as the server's job does every second.
async fn seal(app: &TestApp) {
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        aftercare::workers::audit_sealing::seal(&mut conn, 1000).unwrap()
    })
    .await
    .unwrap();
}

/// `aftercare admin verify-audit` on the test's database: (succeeded, what it printed).
async fn verify_audit(app: &TestApp) -> (bool, String) {
    let url = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
            .args(["admin", "verify-audit"])
            .env("DATABASE_URL", url)
            .output()
            .expect("run aftercare")
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs SQL as someone who went behind the service's back: a superuser with triggers off.
fn tamper(app: &TestApp, sql: &str) {
    let mut conn = app.db();
    conn.batch_execute(&format!(
        "SET session_replication_role = replica; {sql}; SET session_replication_role = origin;"
    ))
    .expect("tamper");
}

#[tokio::test]
async fn reads_and_changes_of_patient_data_are_recorded_without_the_data() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let start = Utc::now();

    let read = app
        .get(&format!("/v1/patients/{}", p.id), &s.clinician)
        .await;
    read.ok(200);
    let request_id = read.header("x-request-id").unwrap().to_string();
    let check_in =
        CheckIn::new(&p.treatment, Utc::now(), json!({"redness": 2})).note("secret-note-text");
    let posted = app.check_in(&p.token, &check_in).await;
    let check_in_id = id_of(posted.ok(201)).to_string();
    app.get(&format!("/v1/check-ins/{check_in_id}"), &s.clinician)
        .await
        .ok(200);
    // Another patient's record: refused, and recorded as such.
    app.get(&format!("/v1/patients/{}", p.id), &s.patients[1].token)
        .await
        .problem(404);

    let me = app.get("/v1/me", &s.clinician).await.ok(200)["user_id"].clone();
    let events = trail(&app, &s.clinic.admin, &format!("patient_id={}", p.id)).await;
    let find = |action: &str, resource: &str, actor: &Value| {
        events
            .iter()
            .find(|e| {
                e["action"] == action && e["resource_type"] == resource && &e["actor_id"] == actor
            })
            .unwrap_or_else(|| panic!("no {action} of {resource} by {actor} in {events:#?}"))
            .clone()
    };
    let e = find("read", "patient", &me);
    assert_eq!(e["actor_role"], "clinician");
    assert_eq!(e["resource_id"], p.id.as_str());
    assert_eq!(e["request_id"], request_id.as_str());
    assert_eq!(
        (e["status"].clone(), e["outcome"].clone()),
        (json!(200), json!("success"))
    );
    let e = find("create", "check_in", &json!(p.id));
    assert_eq!(
        (e["actor_role"].as_str(), e["resource_id"].as_str()),
        (Some("patient"), Some(check_in_id.as_str()))
    );
    find("read", "check_in", &me);
    let denied = find("read", "patient", &json!(s.patients[1].id));
    assert_eq!(
        (denied["status"].clone(), denied["outcome"].clone()),
        (json!(404), json!("not_found"))
    );
    // The enrollment and treatment of the scenario were recorded too; nothing of the other patient's.
    find("create", "treatment", &me);
    assert!(events.iter().all(|e| e["patient_id"] == p.id.as_str()));
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("secret-note-text")
    );

    // Filters.
    let by_actor = trail(&app, &s.clinic.admin, &format!("actor_id={}", p.id)).await;
    assert!(!by_actor.is_empty() && by_actor.iter().all(|e| e["actor_id"] == p.id.as_str()));
    let creates = trail(&app, &s.clinic.admin, "action=create").await;
    assert!(creates.iter().all(|e| e["action"] == "create"));
    assert!(creates.iter().any(|e| e["resource_type"] == "patient"));
    let since = trail(&app, &s.clinic.admin, &format!("from={}", urlencode(start))).await;
    assert!(
        since
            .iter()
            .all(|e| e["resource_type"] != "enrollment_code"),
        "the scenario's enrollment was before"
    );
    assert!(since.len() >= 4);
    assert!(
        trail(
            &app,
            &s.clinic.admin,
            &format!("to={}", urlencode(start - Duration::hours(1)))
        )
        .await
        .is_empty()
    );
    app.get("/v1/audit-events?action=destroy", &s.clinic.admin)
        .await
        .problem(400);
    app.get(
        &format!(
            "/v1/audit-events?from={}&to={}",
            urlencode(start),
            urlencode(start - Duration::hours(1))
        ),
        &s.clinic.admin,
    )
    .await
    .problem(400);

    // Newest first, in pages.
    let page = app.get("/v1/audit-events?limit=2", &s.clinic.admin).await;
    let first = page.ok(200);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/audit-events?limit=2&cursor={cursor}"),
            &s.clinic.admin,
        )
        .await;
    let (a, b) = (&first["items"][1], &next.ok(200)["items"][0]);
    assert!(a["at"].as_str() >= b["at"].as_str());
}

fn urlencode(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339().replace('+', "%2B")
}

#[tokio::test]
async fn only_a_clinics_admins_read_its_trail() {
    let app = spawn_app().await;
    let a = app.scenario("Lumen").await;
    let b = app.scenario("Other").await;
    app.get(&format!("/v1/patients/{}", a.patients[0].id), &a.clinician)
        .await
        .ok(200);
    app.get("/v1/audit-events", &a.clinician).await.problem(403);
    app.get("/v1/audit-events", &a.patients[0].token)
        .await
        .problem(403);

    let theirs = trail(&app, &b.clinic.admin, "").await;
    assert!(!theirs.is_empty());
    let a_ids: Vec<&str> = a.patients.iter().map(|p| p.id.as_str()).collect();
    assert!(
        theirs
            .iter()
            .all(|e| !a_ids.contains(&e["patient_id"].as_str().unwrap_or("")))
    );
    let foreign = trail(
        &app,
        &b.clinic.admin,
        &format!("patient_id={}", a.patients[0].id),
    )
    .await;
    assert!(foreign.is_empty());
    // Another clinic's ids, asked for in B, name no patient in B's trail.
    app.get(&format!("/v1/patients/{}", a.patients[0].id), &b.clinician)
        .await
        .problem(404);
    let probe = trail(&app, &b.clinic.admin, "action=read").await;
    assert!(
        probe
            .iter()
            .any(|e| e["outcome"] == "not_found" && e["patient_id"].is_null())
    );
}

#[tokio::test]
async fn the_service_cannot_change_or_delete_records() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    seal(&app).await;
    let mut conn = app.db();
    for sql in [
        "UPDATE audit_events SET actor_role = 'admin'",
        "UPDATE audit_events SET outcome = 'success' WHERE hash IS NOT NULL",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_chains",
        "UPDATE audit_chains SET seq = 1",
    ] {
        let err = diesel::sql_query(sql).execute(&mut conn).expect_err(sql);
        assert!(
            err.to_string().contains("cannot be changed")
                || err.to_string().contains("only move forward"),
            "{sql}: {err}"
        );
    }
    assert!(!trail(&app, &s.clinic.admin, "").await.is_empty());
}

#[tokio::test]
async fn verify_audit_names_an_edited_and_a_deleted_record() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    for p in &s.patients {
        app.get(&format!("/v1/patients/{}", p.id), &s.clinician)
            .await
            .ok(200);
    }
    seal(&app).await;
    // Records written after the last seal wait for the next one.
    app.get(&format!("/v1/patients/{}", s.patients[0].id), &s.clinician)
        .await
        .ok(200);
    let (ok, out) = verify_audit(&app).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("clinic {}: intact", s.clinic.id)),
        "{out}"
    );
    assert!(out.contains("(1 not sealed yet)"), "{out}");
    seal(&app).await;

    let events = trail(&app, &s.clinic.admin, "").await;
    assert!(events.iter().all(|e| e["seq"].is_i64()));
    let by_seq = |n: i64| {
        events.iter().find(|e| e["seq"] == n).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // An edited record.
    let edited = by_seq(3);
    tamper(
        &app,
        &format!("UPDATE audit_events SET actor_role = 'admin' WHERE id = '{edited}'"),
    );
    let (ok, out) = verify_audit(&app).await;
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "BROKEN at record {edited} (seq 3): it was changed after it was sealed"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("clinic {}: intact", other.clinic.id)),
        "{out}"
    );
    tamper(
        &app,
        &format!("UPDATE audit_events SET actor_role = 'clinician' WHERE id = '{edited}'"),
    );
    assert!(verify_audit(&app).await.0);

    // A deleted record: the one after it no longer fits.
    tamper(
        &app,
        &format!("DELETE FROM audit_events WHERE id = '{}'", by_seq(5)),
    );
    let (ok, out) = verify_audit(&app).await;
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "BROKEN at record {} (seq 6): the records before it from seq 5 are missing",
            by_seq(6)
        )),
        "{out}"
    );

    // Records cut off the end of the chain.
    let last = events
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .max()
        .unwrap();
    tamper(
        &app,
        &format!(
            "DELETE FROM audit_events WHERE clinic_id = '{}' AND seq >= 4",
            s.clinic.id
        ),
    );
    let (ok, out) = verify_audit(&app).await;
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "(seq 3): the chain's head says seq {last}, but the records end here"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn no_record_no_data() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let mut conn = app.db();
    conn.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .unwrap();
    let r = app
        .get(&format!("/v1/patients/{}", s.patients[0].id), &s.clinician)
        .await;
    r.problem(500);
    assert!(r.body.get("external_ref").is_none());
    // Routes without patient data don't write records.
    app.get("/v1/protocols", &s.clinician).await.ok(200);
}
