//! Photos in FHIR: each a `Media` (read, searched by patient and date, in Bulk Data export) whose
//! content is a URL to a `Binary` that holds the bytes (the image itself, or a Binary resource
//! for `Accept: application/fhir+json`); all pass the independent validator, every Binary read is
//! in the audit trail as a read of the photo, a system client reads them as staff do, and another
//! clinic gets 404.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::fhir::{assert_valid, search_all};
use crate::fhir_export::{download, kick_off, manifest, status_path, worker};
use crate::helpers::*;
use crate::photos::{sideways_jpeg, upload};

/// A check-in of the patient and a photo with it: (check-in id, photo as the REST API shows it).
async fn photo_of(app: &TestApp, p: &Patient) -> (String, Value) {
    let c = CheckIn::new(&p.treatment, chrono::Utc::now(), json!({"redness": 2}));
    let check_in = id_of(app.check_in(&p.token, &c).await.ok(201));
    let r = upload(
        app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "image/jpeg",
        sideways_jpeg(64, 32),
    )
    .await;
    (check_in, r.ok(201).clone())
}

/// GET with an Accept header: the status, the content type and the bytes.
async fn get_accepting(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut req = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let res = req.send().await.expect("get");
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

fn photo_reads(app: &TestApp, patient: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events WHERE resource_type = 'photo' AND action = 'read' \
         AND outcome = 'success' AND patient_id::text = $1",
    )
    .bind::<diesel::sql_types::Text, _>(patient)
    .get_result::<Count>(&mut app.db())
    .unwrap()
    .n
}

#[tokio::test]
async fn a_photo_is_a_media_whose_binary_holds_its_bytes_and_both_validate() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let (p, q) = (&s.patients[0], &s.patients[1]);
    let (check_in, photo) = photo_of(&app, p).await;
    photo_of(&app, q).await;
    let id = photo["id"].as_str().unwrap();
    let token = &s.clinician;

    // Searches: the clinic's, one patient's, by date, a page at a time.
    assert_eq!(search_all(&app, token, "Media?_count=1").await.len(), 2);
    let mine = search_all(&app, token, &format!("Media?patient=Patient/{}", p.id)).await;
    assert_eq!(mine.len(), 1);
    let media = &mine[0];
    assert_eq!(media["id"], id);
    assert_eq!(media["status"], "completed");
    assert_eq!(media["type"]["coding"][0]["code"], "image");
    assert_eq!(media["subject"]["reference"], format!("Patient/{}", p.id));
    let part_of: Vec<&Value> = media["partOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["reference"])
        .collect();
    assert_eq!(
        part_of,
        [
            &json!(format!("QuestionnaireResponse/{check_in}")),
            &json!(format!("Procedure/{}", p.treatment))
        ]
    );
    // Upright: the photo was sent sideways.
    assert_eq!(
        (&media["width"], &media["height"]),
        (&json!(32), &json!(64))
    );
    let content = &media["content"];
    assert_eq!(content["url"], format!("{}/fhir/R4/Binary/{id}", app.base));
    assert_eq!(content["contentType"], "image/jpeg");
    assert_eq!(content["size"], photo["bytes"]);
    assert!(content.get("data").is_none(), "never the bytes inline");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        search_all(&app, token, &format!("Media?created=ge{today}"))
            .await
            .len(),
        2
    );
    assert!(
        search_all(&app, token, &format!("Media?created=lt{today}"))
            .await
            .is_empty()
    );
    let read = app.get(&format!("/fhir/R4/Media/{id}"), token).await;
    assert_eq!(read.ok(200), media);

    // The Binary: the image unless FHIR's JSON is asked for; the same bytes as the REST API's.
    let rest = format!("/v1/check-ins/{check_in}/photos/{id}");
    let (_, _, jpeg) = get_accepting(&app, &rest, token, None).await;
    let binary = format!("/fhir/R4/Binary/{id}");
    for accept in [
        None,
        Some("*/*"),
        Some("image/jpeg"),
        Some("image/*, application/fhir+json"),
    ] {
        let (status, kind, bytes) = get_accepting(&app, &binary, token, accept).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"), "{accept:?}");
        assert_eq!(bytes, jpeg, "{accept:?}");
    }
    let (status, kind, body) =
        get_accepting(&app, &binary, token, Some("application/fhir+json")).await;
    assert_eq!((status, kind.as_str()), (200, "application/fhir+json"));
    let resource: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(resource["resourceType"], "Binary");
    assert_eq!(resource["contentType"], "image/jpeg");
    assert_eq!(
        resource["securityContext"]["reference"],
        format!("Patient/{}", p.id)
    );
    let data = STANDARD.decode(resource["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, jpeg);

    let bundle = app
        .get("/fhir/R4/Media?_count=1", token)
        .await
        .ok(200)
        .clone();
    let metadata = app
        .request(reqwest::Method::GET, "/fhir/R4/metadata", None, None)
        .await;
    let metadata = metadata.ok(200).clone();
    let declared: Vec<&Value> = metadata["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["type"])
        .collect();
    assert!(declared.contains(&&json!("Media")) && declared.contains(&&json!("Binary")));
    assert_valid(&app, token, &[media.clone(), bundle, resource, metadata]).await;

    // Five reads of the Binary (four images, one resource), each in the trail as the photo's read
    // under its patient, as is the REST API's one read of it.
    assert_eq!(photo_reads(&app, &p.id), 6);
    // A system client of the clinic reads them as the staff do.
    let (_, system) = system_client(&app, &s.clinic.admin).await;
    assert_eq!(
        app.get(&format!("/fhir/R4/Media/{id}"), &system)
            .await
            .status,
        200
    );
    let (status, kind, _) = get_accepting(&app, &binary, &system, None).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
}

#[tokio::test]
async fn another_clinic_and_a_patient_never_read_a_photo_through_fhir() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let p = &s.patients[0];
    let (_, photo) = photo_of(&app, p).await;
    let id = photo["id"].as_str().unwrap();
    let (_, system) = system_client(&app, &other.clinic.admin).await;
    for token in [&other.clinician, &other.clinic.admin, &system] {
        for path in [
            format!("/fhir/R4/Media/{id}"),
            format!("/fhir/R4/Binary/{id}"),
        ] {
            let r = app.get(&path, token).await;
            assert_eq!(r.status, 404, "{path}");
            assert_eq!(r.body["resourceType"], "OperationOutcome");
        }
        let found = search_all(&app, token, &format!("Media?patient={}", p.id)).await;
        assert!(found.is_empty());
    }
    // FHIR serves the clinic's systems: a patient has the REST API.
    for token in [&p.token, &other.patients[0].token] {
        assert_eq!(
            app.get(&format!("/fhir/R4/Binary/{id}"), token)
                .await
                .status,
            403
        );
    }
    for nonsense in ["x", "Binary", &"1".repeat(64)] {
        let r = app
            .get(&format!("/fhir/R4/Binary/{nonsense}"), &s.clinician)
            .await;
        assert_eq!(r.status, 404, "{nonsense}");
    }
    assert_eq!(photo_reads(&app, &p.id), 0);
}

#[tokio::test]
async fn a_bulk_export_holds_each_photo_as_a_media_whose_bytes_stay_a_url() {
    let app = spawn_app_with(Default::default(), worker()).await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    for p in &s.patients {
        photo_of(&app, p).await;
    }
    let r = kick_off(&app, admin, "/fhir/R4/Patient/$export").await;
    let m = manifest(&app, admin, &status_path(&app, &r)).await;
    let (resources, counts) = download(&app, admin, &m).await;
    assert_eq!(counts["Media"], 2);
    assert_valid(&app, admin, &resources).await;
    let media: Vec<&Value> = resources
        .iter()
        .filter(|r| r["resourceType"] == "Media")
        .collect();
    for m in &media {
        let url = m["content"]["url"].as_str().unwrap();
        let id = m["id"].as_str().unwrap();
        assert_eq!(url, format!("{}/fhir/R4/Binary/{id}", app.base));
        assert!(m["content"].get("data").is_none());
        // The URL reads with the export's token.
        let path = url.replace(&app.base, "");
        let (status, kind, _) = get_accepting(&app, &path, admin, None).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    }

    // A `_since` export after this one holds only the photo sent since.
    let since = m["transactionTime"].as_str().unwrap().replace('+', "%2B");
    let (_, third) = photo_of(&app, &s.patients[0]).await;
    let r = kick_off(
        &app,
        admin,
        &format!("/fhir/R4/Patient/$export?_type=Media&_since={since}"),
    )
    .await;
    let m = manifest(&app, admin, &status_path(&app, &r)).await;
    let (resources, _) = download(&app, admin, &m).await;
    let ids: Vec<&Value> = resources.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&third["id"]]);
}
