//! Bulk Data export keeps its word (issue 24, point 5): an export belongs to whoever kicked it off
//! (another admin of the clinic, or another system client, gets 404 on its status, files and
//! cancel); kick-off parameters the server does not support are a 400 unless lenient, and
//! `_typeFilter` and `patient` narrow what is exported; each file download is audited under every
//! patient it holds; an erasure takes the patient out of stored exports.

use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fhir_export::{clinic, download, kick_off, manifest, status_path, worker};
use crate::helpers::*;

/// A second admin of the clinic, signed in.
async fn another_admin(app: &TestApp, clinic: &Clinic) -> String {
    let email = format!("admin2-{}@clinic.example", Uuid::new_v4().simple());
    app.staff_member(&clinic.admin, &email, "admin", "Second")
        .await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Resp {
    app.request(reqwest::Method::DELETE, path, Some(token), None)
        .await
}

/// A path of a manifest's file URL.
fn file_path(app: &TestApp, file: &Value) -> String {
    file["url"].as_str().unwrap().replace(&app.base, "")
}

#[track_caller]
fn not_found(r: &Resp) {
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.body["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn an_export_belongs_to_whoever_kicked_it_off() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let other_admin = another_admin(&app, &s.clinic).await;
    let (_, system) = system_client(&app, admin).await;

    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export?_type=Patient").await,
    );
    let m = manifest(&app, admin, &status).await;
    let file = file_path(&app, &m["output"][0]);
    // The attack: another admin of the clinic, and the clinic's system client, read and cancel it.
    for stranger in [&other_admin, &system] {
        not_found(&app.get(&status, stranger).await);
        not_found(&app.get(&file, stranger).await);
        not_found(&delete(&app, &status, stranger).await);
    }
    // The owner still has it all.
    assert_eq!(app.get(&status, admin).await.status, 200);
    assert_eq!(app.get(&file, admin).await.status, 200);
    assert_eq!(delete(&app, &status, admin).await.status, 202);

    // A system client's export is its own too, even to the admin who registered it.
    let status = status_path(
        &app,
        &kick_off(&app, &system, "/fhir/R4/Patient/$export?_type=Patient").await,
    );
    let m = manifest(&app, &system, &status).await;
    let file = file_path(&app, &m["output"][0]);
    for stranger in [admin, &other_admin] {
        not_found(&app.get(&status, stranger).await);
        not_found(&app.get(&file, stranger).await);
        not_found(&delete(&app, &status, stranger).await);
    }
    assert_eq!(app.get(&file, &system).await.status, 200);
    assert_eq!(delete(&app, &status, &system).await.status, 202);
}

#[tokio::test]
async fn unsupported_kick_off_parameters_are_refused_unless_lenient() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let (p0, p1) = (&s.patients[0].id, &s.patients[1].id);
    for query in [
        "_elements=id",
        "includeAssociatedData=LatestProvenanceResources",
        "_until=2026-01-01T00:00:00Z",
        "nonsense=1",
        "_typeFilter=Observation%3Fnonsense%3D1",
        "_typeFilter=Medication%3Fcode%3D1",
        "_type=Patient&_typeFilter=Observation%3Fcode%3Dredness",
        "patient=Group/1",
    ] {
        let r = kick_off(&app, admin, &format!("/fhir/R4/Patient/$export?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.body["resourceType"], "OperationOutcome", "{query}");
    }

    // Lenient: the unsupported parameter is ignored.
    let r = app
        .client
        .get(format!(
            "{}/fhir/R4/Patient/$export?_elements=id&_type=Patient",
            app.base
        ))
        .bearer_auth(admin)
        .header("Prefer", "respond-async, handling=lenient")
        .send()
        .await
        .unwrap();
    let status = status_path(&app, &into_resp(r).await);
    let (resources, _) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert_eq!(resources.len(), 2);

    // `_typeFilter` narrows its type; the others are whole.
    let path = format!(
        "/fhir/R4/Patient/$export?_type=Patient,Procedure&_typeFilter=Patient%3F_id%3D{p0}"
    );
    let status = status_path(&app, &kick_off(&app, admin, &path).await);
    let (resources, counts) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert_eq!(counts.get("Patient"), Some(&1));
    assert_eq!(counts.get("Procedure"), Some(&2));
    let patient = resources.iter().find(|r| r["resourceType"] == "Patient");
    assert_eq!(patient.unwrap()["id"], p0.as_str());

    // `patient` keeps only those patients' data, of every type.
    let path = format!("/fhir/R4/Patient/$export?patient=Patient/{p1}");
    let status = status_path(&app, &kick_off(&app, admin, &path).await);
    let (resources, counts) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert_eq!(counts.get("Patient"), Some(&1));
    assert_eq!(counts.get("QuestionnaireResponse"), Some(&2));
    assert!(!resources.is_empty());
    for r in &resources {
        let text = r.to_string();
        assert!(
            text.contains(p1.as_str()) && !text.contains(p0.as_str()),
            "{text}"
        );
    }
}

/// The patients the trail recorded for downloads of export files, sorted.
fn downloads_audited(app: &TestApp) -> Vec<Option<Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        patient_id: Option<Uuid>,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT patient_id FROM audit_events WHERE resource_type = 'fhir_export_file' \
         ORDER BY patient_id",
    )
    .load(&mut app.db())
    .unwrap();
    rows.into_iter().map(|r| r.patient_id).collect()
}

#[tokio::test]
async fn each_file_download_is_audited_under_every_patient_it_holds() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    // Files of two: the two Patients in one file, each check-in's Observations in files of their
    // own patient.
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export?_type=Patient").await,
    );
    let m = manifest(&app, admin, &status).await;
    assert_eq!(m["output"].as_array().unwrap().len(), 1);
    download(&app, admin, &m).await;
    let mut both: Vec<Option<Uuid>> = s
        .patients
        .iter()
        .map(|p| Some(p.id.parse().unwrap()))
        .collect();
    both.sort();
    assert_eq!(downloads_audited(&app), both);
    // A second download is a second record under each.
    download(&app, admin, &m).await;
    assert_eq!(downloads_audited(&app).len(), 4);
}

#[tokio::test]
async fn an_erased_patient_is_in_no_export_file_afterwards() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let (p0, p1) = (&s.patients[0].id, &s.patients[1].id);
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export").await,
    );
    let m = manifest(&app, admin, &status).await;
    let (resources, _) = download(&app, admin, &m).await;
    assert!(
        resources
            .iter()
            .any(|r| r.to_string().contains(p0.as_str()))
    );

    app.post(
        &format!("/v1/patients/{p0}/erasure"),
        admin,
        json!({"reason": "Patient's written request (GDPR Art. 17)"}),
    )
    .await
    .ok(200);
    // The stored export held them: it is gone, and says why.
    let gone = app.get(&status, admin).await;
    assert_eq!(gone.status, 410, "{}", gone.body);
    assert_eq!(gone.body["resourceType"], "OperationOutcome");
    for file in m["output"].as_array().unwrap() {
        not_found(&app.get(&file_path(&app, file), admin).await);
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM fhir_export_files WHERE body LIKE '%' || $1 || '%'",
    )
    .bind::<diesel::sql_types::Text, _>(p0.as_str())
    .get_result(&mut app.db())
    .unwrap();
    assert_eq!(left.n, 0);
    // An erased export can be deleted; the next one holds the others only.
    assert_eq!(delete(&app, &status, admin).await.status, 202);
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export").await,
    );
    let (resources, _) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    assert!(
        resources
            .iter()
            .any(|r| r.to_string().contains(p1.as_str()))
    );
    assert!(
        !resources
            .iter()
            .any(|r| r.to_string().contains(p0.as_str()))
    );
}

#[tokio::test]
async fn a_change_after_the_transaction_time_is_in_the_next_since_export_only() {
    // No worker yet: the export waits, and a patient changes meanwhile.
    let app = spawn_app().await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    let (p0, p1) = (&s.patients[0].id, &s.patients[1].id);
    let status = status_path(
        &app,
        &kick_off(&app, admin, "/fhir/R4/Patient/$export?_type=Patient").await,
    );
    app.patch(
        &format!("/v1/patients/{p1}"),
        &s.clinician,
        json!({"display_name": "Ada"}),
    )
    .await
    .ok(200);
    let _worker = app.another_instance(worker());
    let m = manifest(&app, admin, &status).await;
    let (first, _) = download(&app, admin, &m).await;
    let ids: Vec<&str> = first.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![p0.as_str()],
        "the change is after the transactionTime"
    );

    let since = m["transactionTime"].as_str().unwrap().replace('+', "%2B");
    let path = format!("/fhir/R4/Patient/$export?_type=Patient&_since={since}");
    let status = status_path(&app, &kick_off(&app, admin, &path).await);
    let (second, _) = download(&app, admin, &manifest(&app, admin, &status).await).await;
    let ids: Vec<&str> = second.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![p1.as_str()], "and in the next export, once");
}

/// The adverse events' ids in an export's files.
fn ids(resources: &[Value]) -> Vec<&str> {
    resources
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_row_committed_while_an_export_runs_is_in_exactly_one_of_two_since_exports() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = clinic(&app, "Lumen").await;
    let admin = &s.clinic.admin;
    // Another instance's transaction: its row is stamped before the kick-off (its clock, its
    // transaction's start) and committed only after the export has read everything.
    let mut other = app.db();
    let late = Uuid::new_v4();
    diesel::sql_query("BEGIN").execute(&mut other).unwrap();
    diesel::sql_query(
        "INSERT INTO adverse_events (id, clinic_id, patient_id, treatment_id, term, grade, serious,
                                     onset_date, outcome, recorded_by, created_at, updated_at)
         SELECT $1, t.clinic_id, t.patient_id, t.id, 'Infection', 2, false, current_date,
                'ongoing', (SELECT id FROM staff WHERE clinic_id = t.clinic_id LIMIT 1),
                now() - interval '1 second', now() - interval '1 second'
           FROM treatments t WHERE t.id = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(late)
    .bind::<diesel::sql_types::Uuid, _>(s.patients[0].treatment.parse::<Uuid>().unwrap())
    .execute(&mut other)
    .unwrap();
    let all = "/fhir/R4/Patient/$export?_type=AdverseEvent";
    let status = status_path(&app, &kick_off(&app, admin, all).await);
    let first = manifest(&app, admin, &status).await;
    diesel::sql_query("COMMIT").execute(&mut other).unwrap();
    let late = late.to_string();
    let times = |resources: &[Value]| ids(resources).iter().filter(|id| **id == late).count();
    assert_eq!(times(&download(&app, admin, &first).await.0), 0);

    // The next `_since` export holds it, though it was stamped before the first's
    // transactionTime; the one after that does not.
    let mut exports = vec![];
    let mut since = first["transactionTime"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let path = format!("{all}&_since={}", since.replace('+', "%2B"));
        let status = status_path(&app, &kick_off(&app, admin, &path).await);
        let m = manifest(&app, admin, &status).await;
        since = m["transactionTime"].as_str().unwrap().to_string();
        exports.push(download(&app, admin, &m).await.0);
    }
    assert_eq!(times(&exports[0]), 1);
    assert_eq!(times(&exports[1]), 0);
}
