//! Abuse that must fail: locking staff out from elsewhere, filling the limits' memory, and the
//! other findings of the security review (issue 14).

use std::net::IpAddr;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

/// A sign-in sent from `addr` (a loopback address of its own: the server sees it as the client).
async fn login_from(app: &TestApp, addr: [u8; 4], email: &str, password: &str) -> Resp {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::from(addr))
        .build()
        .expect("client");
    let res = client
        .post(format!("{}/v1/auth/login", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request");
    into_resp(res).await
}

/// A staff member of a new clinic; their email.
async fn staff_member(app: &TestApp) -> String {
    let clinic = app.clinic("Lockout", "Europe/Berlin").await;
    let email = "only-admin@lockout.example";
    let body = json!({"email": email, "password": PASSWORD, "role": "admin", "name": "Ada"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    email.to_string()
}

#[tokio::test]
async fn a_stranger_failing_to_sign_in_does_not_lock_the_real_user_out() {
    let app = spawn_app().await;
    let email = staff_member(&app).await;
    let attacker = [127, 0, 0, 2];
    let free = aftercare::web::limits::FREE_FAILURES as usize;
    let mut statuses = vec![];
    for _ in 0..free {
        statuses.push(
            login_from(&app, attacker, &email, "wrong-password-1")
                .await
                .status,
        );
    }
    // Past the free failures the lock doubles with each one (1 s, 2 s, 4 s): two more, each as the
    // last lock ends, leave it 4 s long, so the checks below run under it even on a loaded machine.
    for seconds in [1, 2] {
        tokio::time::sleep(std::time::Duration::from_millis(seconds * 1000 + 100)).await;
        statuses.push(
            login_from(&app, attacker, &email, "wrong-password-1")
                .await
                .status,
        );
    }
    for _ in 0..aftercare::web::limits::PER_ACCOUNT.attempts {
        statuses.push(
            login_from(&app, attacker, &email, "wrong-password-1")
                .await
                .status,
        );
    }
    // The attacker is slowed down: after the free failures (and the two let through as each lock
    // ended), it waits.
    assert!(
        statuses[..free + 2].iter().all(|s| *s == 401),
        "{statuses:?}"
    );
    assert!(
        statuses[free + 2..].iter().all(|s| *s == 429),
        "{statuses:?}"
    );
    // Even the right password from the attacker's address waits.
    login_from(&app, attacker, &email, PASSWORD)
        .await
        .problem(429);
    // The real user, from their own address, signs in.
    login_from(&app, [127, 0, 0, 1], &email, PASSWORD)
        .await
        .ok(200);
}

/// Changed by issue 24: under the shared lock the right password used to sign in (and so told a
/// guesser it was right). Now every client the account doesn't know gets the same 429, and only a
/// browser it signed in from before (its device cookie) signs in.
#[tokio::test]
async fn failures_from_many_addresses_lock_every_client_but_a_known_browser() {
    let app = spawn_app().await;
    let email = staff_member(&app).await;
    let before = login_from(&app, [127, 0, 3, 1], &email, PASSWORD).await;
    before.ok(200);
    let cookie = before
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a device cookie")
        .to_string();
    let shared = aftercare::web::limits::FREE_SHARED_FAILURES;
    let free = aftercare::web::limits::FREE_FAILURES;
    for n in 0..shared.div_ceil(free) {
        for _ in 0..free {
            login_from(&app, [127, 0, 1, n as u8], &email, "wrong-password-1").await;
        }
    }
    login_from(&app, [127, 0, 2, 1], &email, "wrong-password-2")
        .await
        .problem(429);
    login_from(&app, [127, 0, 2, 2], &email, PASSWORD)
        .await
        .problem(429);
    let known = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 2, 3]))
        .build()
        .expect("client")
        .post(format!("{}/v1/auth/login", app.base))
        .header("cookie", cookie)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    into_resp(known).await.ok(200);
}

#[tokio::test]
async fn over_long_credentials_are_refused_before_they_are_counted() {
    let app = spawn_app().await;
    let long = "a".repeat(60_000);
    let bodies: [(&str, Value, &str); 4] = [
        (
            "/v1/auth/login",
            json!({"email": format!("{long}@x.example"), "password": "p"}),
            "email",
        ),
        (
            "/v1/auth/login",
            json!({"email": "a@x.example", "password": long}),
            "password",
        ),
        ("/v1/auth/enroll", json!({"code": long}), "code"),
        (
            "/v1/auth/refresh",
            json!({"refresh_token": long}),
            "refresh_token",
        ),
    ];
    for (path, body, field) in bodies {
        let r = app.post_anon(path, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), [field]);
    }
    assert_eq!(app.limits.len(), 0, "nothing was kept");
    // The longest email any account may have is still checked, and counted.
    let email = format!("{}@x.example", "a".repeat(254 - 10));
    app.post_anon("/v1/auth/login", json!({"email": email, "password": "p"}))
        .await
        .problem(401);
    assert!(!app.limits.is_empty());
}

/// Every operation's path with each `{param}` replaced by `id`.
fn with_ids(path: &str, id: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { id } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn a_tampered_cursor_is_a_400_on_every_list() {
    let app = spawn_app().await;
    let s = app.scenario("Cursors").await;
    let webhook = app
        .post(
            "/v1/webhooks",
            &s.clinic.admin,
            json!({"url": "https://hooks.clinic.example/a", "events": ["alert.raised"]}),
        )
        .await;
    let webhook = id_of(webhook.ok(201));
    let doc = serde_json::to_value(aftercare::api::openapi()).unwrap();
    let mut lists = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let params = item["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if params.iter().any(|p| p["name"] == "cursor") {
            let id = match path.as_str() {
                p if p.starts_with("/v1/patients/") => s.patients[0].id.clone(),
                p if p.starts_with("/v1/treatments/") => s.patients[0].treatment.clone(),
                _ => webhook.clone(),
            };
            lists.push(with_ids(path, &id));
        }
    }
    assert!(lists.len() >= 9, "{lists:?}");
    let ancient = base64_url(&format!("-210000000000000000.{}", uuid::Uuid::nil()));
    let far = base64_url(&format!("{}.{}", i64::MAX, uuid::Uuid::nil()));
    for list in &lists {
        app.get(&format!("{list}?limit=1"), &s.clinic.admin)
            .await
            .ok(200);
        for cursor in [&ancient, &far, "garbage", "%00"] {
            let r = app
                .get(&format!("{list}?cursor={cursor}"), &s.clinic.admin)
                .await;
            r.problem(400);
            assert_eq!(r.error_fields(), ["cursor"], "{list}");
        }
    }
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn a_token_for_a_clinic_that_does_not_exist_is_a_401_everywhere() {
    let app = spawn_app().await;
    let ghost = crate::auth::sign(
        &crate::auth::claims(uuid::Uuid::new_v4(), uuid::Uuid::new_v4()),
        SECRET,
    );
    let id = uuid::Uuid::new_v4().to_string();
    for op in aftercare::api::OPERATIONS {
        if !op.roles.contains('a') {
            continue;
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let body = (op.method != "GET").then(|| json!({}));
        let path = with_ids(op.path, &id);
        let r = app
            .request(method, &path, Some(&ghost), body.as_ref())
            .await;
        assert_eq!(r.status, 401, "{} {path}: {:#}", op.method, r.body);
    }
}

/// The patients the trail recorded for requests of this resource type and action, sorted.
fn audited(app: &TestApp, resource_type: &str, action: &str) -> Vec<Option<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        patient_id: Option<uuid::Uuid>,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT patient_id FROM audit_events WHERE resource_type = $1 AND action = $2 \
         ORDER BY patient_id",
    )
    .bind::<diesel::sql_types::Text, _>(resource_type)
    .bind::<diesel::sql_types::Text, _>(action)
    .load(&mut app.db())
    .unwrap();
    rows.into_iter()
        .map(|r| r.patient_id.map(|p| p.to_string()))
        .collect()
}

fn sorted(mut ids: Vec<Option<String>>) -> Vec<Option<String>> {
    ids.sort();
    ids
}

#[tokio::test]
async fn lists_of_patients_data_are_audited_with_each_patient_shown() {
    let app = spawn_app().await;
    let s = app.scenario("Trail").await;
    let admin = &s.clinic.admin;
    let (p0, p1) = (&s.patients[0], &s.patients[1]);
    let both = sorted(vec![Some(p0.id.clone()), Some(p1.id.clone())]);

    app.get("/v1/patients", admin).await.ok(200);
    assert_eq!(audited(&app, "patient", "list"), both);

    // Each patient raises an alert; the queue filtered by one shows, and records, that one.
    app.post(
        "/v1/webhooks",
        admin,
        json!({"url": "https://hooks.clinic.example/in", "events": ["alert.raised"]}),
    )
    .await
    .ok(201);
    for p in [p0, p1] {
        let check_in = CheckIn::new(&p.treatment, chrono::Utc::now(), json!({"blisters": 1}));
        app.check_in(&p.token, &check_in).await.ok(201);
    }
    app.get(&format!("/v1/alerts?patient_id={}", p0.id), admin)
        .await
        .ok(200);
    assert_eq!(audited(&app, "alert", "list"), [Some(p0.id.clone())]);

    // The webhook's deliveries carry the patients' ids: reading them is recorded like any read.
    let hooks = app.get("/v1/webhooks", admin).await;
    let hook = hooks.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = app
        .get(&format!("/v1/webhooks/{hook}/deliveries"), admin)
        .await;
    let delivery = list.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(audited(&app, "webhook_delivery", "list"), both);
    let one = app
        .get(&format!("/v1/webhooks/{hook}/deliveries/{delivery}"), admin)
        .await;
    let shown = one.ok(200)["payload"]["data"]["patient_id"].clone();
    assert_eq!(
        audited(&app, "webhook_delivery", "read"),
        [Some(shown.as_str().unwrap().to_string())]
    );

    // A batch of check-ins is recorded with the patient who sent it.
    let batch = [CheckIn::new(
        &p1.treatment,
        chrono::Utc::now(),
        json!({"redness": 1}),
    )];
    app.check_in_batch(&p1.token, &batch).await.ok(200);
    let (a, b) = (Some(p0.id.clone()), Some(p1.id.clone()));
    assert_eq!(
        audited(&app, "check_in", "create"),
        sorted(vec![a, b.clone(), b])
    );

    // The dashboard is recorded; with nobody slower than usual it names no patient.
    app.get("/v1/dashboard", admin).await.ok(200);
    assert_eq!(audited(&app, "dashboard", "read"), [None]);
}

#[tokio::test]
async fn look_alike_record_numbers_are_one_patient_and_hidden_characters_are_refused() {
    let app = spawn_app().await;
    let clinic = app.clinic("Look-alikes", "Europe/Berlin").await;
    let doc = app.clinician(&clinic).await;
    let create = |external_ref: &str, name: &str| json!({"external_ref": external_ref, "display_name": name, "concerns": []});
    let first = app
        .post("/v1/patients", &doc, create("MRN-00421", "Jose\u{301}"))
        .await;
    assert_eq!(first.ok(201)["display_name"], "José", "stored in NFC");
    for look_alike in [
        "mrn 00421",
        "ＭＲＮ－００４２１",
        "MRN-00421\u{301}",
        "MRN00421",
    ] {
        let r = app
            .post("/v1/patients", &doc, create(look_alike, "Alex"))
            .await;
        r.problem(409);
    }
    for hidden in ["MRN-0042\u{200B}1", "MRN-\u{202E}12400", "\u{FEFF}MRN-7"] {
        let r = app.post("/v1/patients", &doc, create(hidden, "Alex")).await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["external_ref"], "{hidden:?}");
    }
    let r = app
        .post("/v1/patients", &doc, create("MRN-9", "Alex\u{202E}rm -rf"))
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), ["display_name"]);
    let staff = json!({"email": "zw@clinic.example", "password": PASSWORD, "role": "clinician",
                       "name": "Dr.\u{200B}Lee"});
    let r = app.post("/v1/staff", &clinic.admin, staff).await;
    r.problem(422);
    assert_eq!(r.error_fields(), ["name"]);
    // A different record number is still a different patient, and a patient can't be renamed
    // into another's look-alike.
    let other = app
        .post("/v1/patients", &doc, create("MRN-00422", "Sam"))
        .await;
    let other = id_of(other.ok(201));
    let r = app
        .patch(
            &format!("/v1/patients/{other}"),
            &doc,
            json!({"external_ref": "mrn_00421"}),
        )
        .await;
    r.problem(409);
}

/// An empty database of the test's own, without migrations; its name and URL.
fn fresh_empty_database() -> (String, String) {
    let mut admin = PgConnection::establish(&db_url("postgres")).unwrap();
    let name = format!("aftercare_lookalikes_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    (name.clone(), db_url(&name))
}

#[test]
fn the_migration_keys_existing_record_numbers_and_keeps_look_alikes_apart() {
    use aftercare::db::MIGRATIONS;
    use diesel_migrations::MigrationHarness;

    let (name, url) = fresh_empty_database();
    let mut conn = PgConnection::establish(&url).unwrap();
    while !conn.pending_migrations(MIGRATIONS).unwrap()[0]
        .name()
        .to_string()
        .starts_with("2026-11-30-000020")
    {
        conn.run_next_migration(MIGRATIONS).unwrap();
    }
    for statement in [
        "INSERT INTO clinics (id, name, timezone) VALUES ('00000000-0000-4000-8000-000000000001', 'C', 'UTC')",
        "INSERT INTO patients (id, clinic_id, external_ref, concerns, created_at) VALUES \
           ('00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-000000000001', 'MRN-1', '{}', now() - interval '2 days'), \
           ('00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-000000000001', 'mrn 1', '{}', now() - interval '1 day'), \
           ('00000000-0000-4000-8000-00000000000c', '00000000-0000-4000-8000-000000000001', 'MRN-2', '{}', now())",
    ] {
        diesel::sql_query(statement).execute(&mut conn).unwrap();
    }
    conn.run_next_migration(MIGRATIONS).unwrap();
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        external_ref_key: String,
    }
    let keys: Vec<String> = diesel::sql_query("SELECT external_ref_key FROM patients ORDER BY id")
        .load::<Key>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|k| k.external_ref_key)
        .collect();
    assert_eq!(
        keys,
        [
            "mrn1".to_string(),
            "mrn1#00000000-0000-4000-8000-00000000000b".to_string(),
            "mrn2".to_string()
        ]
    );
    assert_eq!(keys[0], aftercare::domain::text::record_key("MRN-1"));
    drop(conn);
    drop_database(&name);
}

#[tokio::test]
async fn a_patient_reads_the_notes_of_their_own_treatment_and_no_one_elses() {
    let app = spawn_app().await;
    let s = app.scenario("Notes").await;
    let (me, other) = (&s.patients[0], &s.patients[1]);
    let body = json!({"protocol_id": s.protocol, "performed_at": chrono::Utc::now(),
                      "contraindications": no_contraindications(), "notes": "Tolerated well."});
    let r = app
        .post(
            &format!("/v1/patients/{}/treatments", me.id),
            &s.clinician,
            body,
        )
        .await;
    let treatment = id_of(r.ok(201));
    let mine = app
        .get(&format!("/v1/treatments/{treatment}"), &me.token)
        .await;
    assert_eq!(mine.ok(200)["notes"], "Tolerated well.");
    app.get(&format!("/v1/treatments/{treatment}"), &other.token)
        .await
        .problem(404);
}

#[tokio::test]
async fn one_email_may_be_staff_at_two_clinics_and_the_clinic_code_decides() {
    let app = spawn_app().await;
    let (a, b) = (
        app.clinic("A", "Europe/Berlin").await,
        app.clinic("B", "Europe/Berlin").await,
    );
    let code_of = async |admin: &str| {
        let clinic = app.get("/v1/clinic", admin).await;
        clinic.ok(200)["code"].as_str().unwrap().to_string()
    };
    let (code_a, code_b) = (code_of(&a.admin).await, code_of(&b.admin).await);
    let email = "locum@clinics.example";
    let other_password = "maple-orbit-canvas-17";
    let staff = |password: &str| json!({"email": email, "password": password, "role": "clinician", "name": "Locum"});
    app.post("/v1/staff", &a.admin, staff(PASSWORD))
        .await
        .ok(201);
    // Staff at one clinic sign in without naming it.
    let at_a = app.login(email, PASSWORD).await;
    assert_eq!(at_a["clinic_id"], a.id.to_string());
    // Clinic B can't tell that the address is staff at clinic A: it is free in B.
    app.post("/v1/staff", &b.admin, staff(other_password))
        .await
        .ok(201);
    app.post("/v1/staff", &b.admin, staff(other_password))
        .await
        .problem(409);
    let login = |body: Value| app.post_anon("/v1/auth/login", body);
    // Staff at two: the sign-in names the clinic, whatever the password.
    for password in [PASSWORD, other_password, "wrong-password-1"] {
        login(json!({"email": email, "password": password}))
            .await
            .problem(409);
    }
    let at_b =
        login(json!({"email": email, "password": other_password, "clinic": code_b.to_lowercase()}))
            .await;
    assert_eq!(at_b.ok(200)["clinic_id"], b.id.to_string());
    let at_a = login(json!({"email": email, "password": PASSWORD, "clinic_id": a.id})).await;
    assert_eq!(at_a.ok(200)["clinic_id"], a.id.to_string());
    // Only the named clinic's password is checked.
    login(json!({"email": email, "password": other_password, "clinic": code_a}))
        .await
        .problem(401);
    login(json!({"email": email, "password": PASSWORD, "clinic_id": b.id}))
        .await
        .problem(401);
}
