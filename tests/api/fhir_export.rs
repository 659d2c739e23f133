//! FHIR Bulk Data export end to end: kick-off, polling, the manifest, the ndjson files (every line
//! validated by fhir.resources, counts equal to the REST API's), `_since`, a Group's cohort, 429
//! while one runs, cancel, and an export whose instance was killed mid-way finished by another.

use std::time::Duration;

use aftercare::config::ExportSettings;
use aftercare::startup::Background;
use chrono::{SecondsFormat, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::fhir::assert_valid;
use crate::helpers::*;

/// Small files, so that an export of a test's few resources spans several, and a check-in's
/// three Observations two files.
pub fn worker() -> Background {
    Background {
        fhir_exports: Some(ExportSettings {
            poll: Duration::from_millis(100),
            file_size: 2,
        }),
        ..Background::default()
    }
}

pub async fn kick_off(app: &TestApp, token: &str, path: &str) -> Resp {
    let req = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Prefer", "respond-async");
    into_resp(req.send().await.expect("kick-off")).await
}

/// The status URL of an accepted kick-off, as a path.
pub fn status_path(app: &TestApp, r: &Resp) -> String {
    assert_eq!(r.status, 202, "{}", r.body);
    r.header("content-location").unwrap().replace(&app.base, "")
}

/// Polls until the manifest; every answer before it is 202 with X-Progress and Retry-After.
pub async fn manifest(app: &TestApp, token: &str, status: &str) -> Value {
    for _ in 0..200 {
        let r = app.get(status, token).await;
        if r.status == 200 {
            return r.body;
        }
        assert_eq!(r.status, 202, "{}", r.body);
        assert!(r.header("x-progress").is_some());
        assert_eq!(r.header("retry-after"), Some("1"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the export did not finish");
}

/// Every resource of the manifest's files, downloaded with the token; per type, how many.
pub async fn download(
    app: &TestApp,
    token: &str,
    manifest: &Value,
) -> (Vec<Value>, std::collections::HashMap<String, usize>) {
    let mut all = vec![];
    let mut counts = std::collections::HashMap::new();
    for file in manifest["output"].as_array().unwrap() {
        let res = app
            .client
            .get(file["url"].as_str().unwrap())
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/fhir+ndjson");
        let text = res.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, file["count"].as_u64().unwrap());
        for line in &lines {
            assert_eq!(line["resourceType"], file["type"]);
        }
        *counts
            .entry(file["type"].as_str().unwrap().to_string())
            .or_default() += lines.len();
        all.extend(lines);
    }
    (all, counts)
}

/// A clinic with two patients who checked in twice each, a complication and an outcome.
pub async fn clinic(app: &TestApp, name: &str) -> Scenario {
    let s = app.scenario(name).await;
    for p in &s.patients {
        for day in 0..2 {
            let at = s.performed_at + chrono::Duration::days(day) + chrono::Duration::hours(1);
            let c = CheckIn::new(
                &p.treatment,
                at,
                json!({"redness": 2, "itching": 1, "fever": 0}),
            );
            app.check_in(&p.token, &c).await.ok(201);
        }
    }
    let p = &s.patients[0];
    let today = Utc::now().date_naive();
    app.post(&format!("/v1/treatments/{}/adverse-events", p.treatment), &s.clinician,
        json!({"term": "infection", "grade": 3, "serious": true, "onset_date": today, "outcome": "resolved"}))
        .await
        .ok(201);
    app.post(
        &format!("/v1/treatments/{}/outcomes", p.treatment),
        &s.clinician,
        json!({"assessed_on": today, "gais": 2, "satisfaction": 7}),
    )
    .await
    .ok(201);
    s
}

#[tokio::test]
async fn a_bulk_export_runs_end_to_end_and_holds_what_the_rest_api_holds() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let r = kick_off(
        &app,
        admin,
        "/fhir/R4/Patient/$export?_outputFormat=application/fhir%2Bndjson",
    )
    .await;
    let status = status_path(&app, &r);
    let m = manifest(&app, admin, &status).await;
    assert_eq!(m["requiresAccessToken"], true);
    assert!(
        m["request"]
            .as_str()
            .unwrap()
            .ends_with("/fhir/R4/Patient/$export?_outputFormat=application/fhir%2Bndjson")
    );
    assert!(m["transactionTime"].as_str().is_some());
    assert_eq!(m["error"], json!([]));
    let (resources, counts) = download(&app, admin, &m).await;
    assert_valid(&app, admin, &resources).await;

    // The REST API's counts: 2 patients, 2 treatments, 4 check-ins of 3 scores, 1 complication,
    // 1 outcome of two values.
    let patients = app.get("/v1/patients", admin).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .len();
    let mut check_ins = 0;
    let mut scores = 0;
    for p in &s.patients {
        for c in app
            .get(&format!("/v1/patients/{}/check-ins", p.id), admin)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
        {
            check_ins += 1;
            scores += c["scores"].as_object().unwrap().len();
        }
    }
    assert_eq!(counts["Patient"], patients);
    assert_eq!(counts["Procedure"], 2);
    assert_eq!(counts["QuestionnaireResponse"], check_ins);
    assert_eq!(counts["Observation"], scores + 2);
    assert_eq!(counts["AdverseEvent"], 1);
    assert!(
        m["output"].as_array().unwrap().len() > 5,
        "small files: several per type"
    );

    // The files need the token, and another clinic's admin gets nothing.
    let url = m["output"][0]["url"]
        .as_str()
        .unwrap()
        .replace(&app.base, "");
    let anonymous = app.request(reqwest::Method::GET, &url, None, None).await;
    assert_eq!(anonymous.status, 401);
    let other = app.scenario("Other").await;
    assert_eq!(app.get(&url, &other.clinic.admin).await.status, 404);
    assert_eq!(app.get(&status, &other.clinic.admin).await.status, 404);
    // A clinician may read FHIR but not export.
    assert_eq!(
        kick_off(&app, &s.clinician, "/fhir/R4/Patient/$export")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn since_exports_only_what_changed_and_a_group_only_its_cohort() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let p = &s.patients[1];
    app.patch(
        &format!("/v1/patients/{}", p.id),
        &s.clinician,
        json!({"display_name": "Ada"}),
    )
    .await
    .ok(200);
    let path = format!(
        "/fhir/R4/Patient/$export?_since={}",
        since.replace('+', "%2B")
    );
    let status = status_path(&app, &kick_off(&app, admin, &path).await);
    let (resources, counts) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert_eq!(counts.get("Patient"), Some(&1));
    assert_eq!(resources.len(), 1, "{resources:?}");
    assert_eq!(resources[0]["id"], p.id.as_str());

    // A second protocol with a patient of its own: its Group holds only that patient.
    let protocol = app.protocol(&s.clinician, "Neck 0.5 mm").await;
    let newcomer = app.patient(&s.clinician, "MRN-9").await;
    app.treatment(
        &s.clinician,
        &newcomer,
        &protocol,
        Utc::now() - chrono::Duration::hours(1),
    )
    .await;
    let path = format!("/fhir/R4/Group/{protocol}/$export?_type=Patient,Procedure");
    let status = status_path(&app, &kick_off(&app, admin, &path).await);
    let (resources, counts) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert_eq!(counts.get("Patient"), Some(&1));
    assert_eq!(counts.get("Procedure"), Some(&1));
    assert!(resources.iter().all(|r| r.to_string().contains(&newcomer)));
    assert_valid(&app, admin, &resources).await;
    let other = app.scenario("Other").await;
    let theirs = format!("/fhir/R4/Group/{protocol}/$export");
    assert_eq!(
        kick_off(&app, &other.clinic.admin, &theirs).await.status,
        404
    );
}

#[tokio::test]
async fn one_export_at_a_time_and_a_cancelled_one_is_gone() {
    // No worker: the export stays queued.
    let app = spawn_app().await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let no_prefer = app.get("/fhir/R4/Patient/$export", admin).await;
    assert_eq!(no_prefer.status, 400);
    assert_eq!(no_prefer.body["resourceType"], "OperationOutcome");
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export").await,
    );
    let second = kick_off(&app, admin, "/fhir/R4/Patient/$export").await;
    assert_eq!(second.status, 429);
    assert!(second.header("retry-after").is_some());
    assert_eq!(second.body["issue"][0]["code"], "throttled");
    // Another clinic's export is not held up.
    let other = app.scenario("Other").await;
    assert_eq!(
        kick_off(&app, &other.clinic.admin, "/fhir/R4/Patient/$export")
            .await
            .status,
        202
    );

    let cancel = app
        .request(reqwest::Method::DELETE, &status, Some(admin), None)
        .await;
    assert_eq!(cancel.status, 202);
    assert_eq!(app.get(&status, admin).await.status, 404);
    let again = app
        .request(reqwest::Method::DELETE, &status, Some(admin), None)
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        kick_off(&app, admin, "/fhir/R4/Patient/$export")
            .await
            .status,
        202
    );
}

/// `aftercare serve` on the app's database, with the export worker writing files of two.
fn serve_in_a_process(app: &TestApp) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .arg("serve")
        .env("DATABASE_URL", &app.db_url)
        .env("AFTERCARE_ADDR", "127.0.0.1:0")
        .env("AFTERCARE_PUBLIC_URL", "https://aftercare.clinic.example")
        .env(
            "AFTERCARE_JWT_SECRET",
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
        )
        .env("AFTERCARE_FHIR_EXPORT_FILE_SIZE", "2")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start aftercare serve")
}

/// Whether a session waits for the advisory lock `key`.
fn waits_for(db: &mut diesel::PgConnection, key: i64) -> bool {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = {key} AND NOT granted"
    ))
    .get_result::<Waiting>(db)
    .unwrap()
    .n
        > 0
}

#[tokio::test]
async fn an_instance_killed_mid_export_leaves_it_to_another_that_finishes_it() {
    let app = spawn_app().await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    // The worker is held as it writes its second file: a trigger on this test's database makes
    // that insert wait for an advisory lock the test holds.
    let mut db = app.db();
    db.batch_execute(
        "SELECT pg_advisory_lock(4242);
         CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.seq = 1 THEN PERFORM pg_advisory_xact_lock(4242); END IF; RETURN NEW; END $$;
         CREATE TRIGGER hold BEFORE INSERT ON fhir_export_files FOR EACH ROW EXECUTE FUNCTION hold();",
    )
    .unwrap();
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export").await,
    );

    let mut instance = serve_in_a_process(&app);
    let held = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !waits_for(&mut db, 4242) {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker never got to its second file"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        db
    });
    let mut db = held.await.unwrap();
    let r = app.get(&status, admin).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("x-progress"), Some("Patient: 2 resources"));

    // The instance dies mid-export; its session, and with it the export's lock, goes when its
    // PostgreSQL backend finds the connection gone.
    instance.kill().unwrap();
    instance.wait().unwrap();
    db.batch_execute("SELECT pg_advisory_unlock(4242)").unwrap();
    assert_eq!(app.get(&status, admin).await.status, 202);

    let _restarted = app.another_instance(worker());
    let m = manifest(&app, admin, &status).await;
    let (resources, counts) = download(&app, admin, &m).await;
    assert_eq!(counts["Patient"], 2, "the half-written export is gone");
    assert_eq!(counts["Observation"], 6 * 2 + 2);
    let mut ids: Vec<String> = resources
        .iter()
        .map(|r| format!("{}/{}", r["resourceType"], r["id"]))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), resources.len(), "no resource twice");
    assert_valid(&app, admin, &resources).await;
}
