//! Sign-in never compares one clinic's password with another's. An admin of clinic A who creates a
//! staff account with clinic B's clinician's email, on a password of their choosing, learns nothing
//! about B's password from signing in: without a clinic named, an email at two clinics is answered
//! 409 before any password is checked; with A's code named, only A's account is checked. Then the
//! fix holding: the clinician signs in to B with B's code, staff at one clinic need no code, the
//! code is shown to staff and printed by `create-clinic`, the migration gives existing clinics
//! theirs, and the dashboard asks for the code, remembers it and sends it the next time.

use std::sync::Arc;

use aftercare::db::MIGRATIONS;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::browser::*;
use crate::helpers::*;

const CLINICIAN: &str = "dr.mei@lumen.example";
const B_PASSWORD: &str = "quartz-lantern-meadow-42";
const A_PASSWORD: &str = "chosen-by-the-admin-of-a";
const WRONG: &str = "a-wrong-guess-at-b-00";

/// The clinic's code, as its admin reads it.
async fn code_of(app: &TestApp, admin: &str) -> String {
    let clinic = app.get("/v1/clinic", admin).await;
    clinic.ok(200)["code"].as_str().unwrap().to_string()
}

/// The answer to a sign-in, without what differs between any two answers (the request id).
async fn sign_in(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app.post_anon("/v1/auth/login", body).await;
    let mut body = r.body.clone();
    if let Some(problem) = body.as_object_mut() {
        problem.remove("instance");
        problem.remove("request_id");
    }
    (r.status, body)
}

/// Clinic B with its clinician (who has B_PASSWORD), and clinic A, whose admin has added a staff
/// account with the clinician's email and a password of the admin's choosing.
struct Attack {
    a: Clinic,
    b: Clinic,
}

async fn attack(app: &TestApp) -> Attack {
    let (a, b) = (
        app.clinic("A", "Europe/Berlin").await,
        app.clinic("B", "Europe/Berlin").await,
    );
    let staff = |password: &str| json!({"email": CLINICIAN, "password": password, "role": "clinician", "name": "Dr. Mei"});
    app.post("/v1/staff", &b.admin, staff(B_PASSWORD))
        .await
        .ok(201);
    app.post("/v1/staff", &a.admin, staff(A_PASSWORD))
        .await
        .ok(201);
    Attack { a, b }
}

#[tokio::test]
async fn an_admin_of_another_clinic_learns_nothing_of_a_clinicians_password() {
    let app = spawn_app().await;
    let Attack { a, .. } = attack(&app).await;
    let code_a = code_of(&app, &a.admin).await;

    // Without a clinic named: B's right password, a wrong one and A's own get the same answer.
    let right = sign_in(&app, json!({"email": CLINICIAN, "password": B_PASSWORD})).await;
    let wrong = sign_in(&app, json!({"email": CLINICIAN, "password": WRONG})).await;
    let own = sign_in(&app, json!({"email": CLINICIAN, "password": A_PASSWORD})).await;
    assert_eq!(right.0, 409, "{}", right.1);
    assert_eq!(right, wrong);
    assert_eq!(right, own);
    assert!(
        right.1["detail"]
            .as_str()
            .unwrap()
            .contains("name your clinic"),
        "{}",
        right.1
    );

    // With A's code named, only A's account is checked: B's password is a wrong one there.
    let right = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": code_a}),
    )
    .await;
    let wrong = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": WRONG, "clinic": code_a}),
    )
    .await;
    assert_eq!(right.0, 401, "{}", right.1);
    assert_eq!(right, wrong);
    let (status, tokens) = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": A_PASSWORD, "clinic": code_a}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["clinic_id"], a.id.to_string());
    // By clinic_id, the same.
    let (status, _) = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic_id": a.id}),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_clinician_signs_in_to_their_clinic_by_its_code() {
    let app = spawn_app().await;
    let Attack { a, b } = attack(&app).await;
    let code_b = code_of(&app, &b.admin).await;
    // Case, spaces and dashes don't matter.
    let typed = format!(" {}-{} ", &code_b[..3], &code_b[3..].to_lowercase());
    let (status, tokens) = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": typed}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["clinic_id"], b.id.to_string());
    let (status, _) = sign_in(
        &app,
        json!({"email": CLINICIAN, "password": WRONG, "clinic": code_b}),
    )
    .await;
    assert_eq!(status, 401);

    // Once A's admin removes their account, the clinician is at one clinic and needs no code.
    let staff = app.get("/v1/staff", &a.admin).await;
    let planted = staff.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == CLINICIAN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/staff/{planted}/deactivate"),
        &a.admin,
        json!(null),
    )
    .await
    .ok(200);
    // A deactivated account still counts: whether it is active is no one else's business.
    let (status, _) = sign_in(&app, json!({"email": CLINICIAN, "password": B_PASSWORD})).await;
    assert_eq!(status, 409);
    diesel::delete(
        aftercare::db::schema::staff::table
            .filter(aftercare::db::schema::staff::id.eq(planted.parse::<Uuid>().unwrap())),
    )
    .execute(&mut PgConnection::establish(&app.db_url).unwrap())
    .unwrap();
    let (status, tokens) = sign_in(&app, json!({"email": CLINICIAN, "password": B_PASSWORD})).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["clinic_id"], b.id.to_string());
}

#[tokio::test]
async fn a_clinic_that_names_no_account_is_a_wrong_password() {
    let app = spawn_app().await;
    let Attack { b, .. } = attack(&app).await;
    let code_b = code_of(&app, &b.admin).await;
    // Both, naming the same clinic, sign in.
    let both =
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": code_b, "clinic_id": b.id});
    let (status, body) = sign_in(&app, both).await;
    assert_eq!(status, 200, "{body}");
    // A code no clinic has, and an id no clinic has: as a wrong password.
    let nobody = if code_b == "ZZZZZZ" {
        "YYYYYY"
    } else {
        "ZZZZZZ"
    };
    for clinic in [
        json!({"clinic": nobody}),
        json!({"clinic_id": Uuid::new_v4()}),
    ] {
        let mut body = json!({"email": CLINICIAN, "password": B_PASSWORD});
        body.as_object_mut()
            .unwrap()
            .extend(clinic.as_object().unwrap().clone());
        let (status, problem) = sign_in(&app, body).await;
        assert_eq!(status, 401, "{problem}");
    }
    // An email at no clinic, with a clinic named: the same.
    let (status, _) = sign_in(
        &app,
        json!({"email": "nobody@lumen.example", "password": B_PASSWORD, "clinic": code_b}),
    )
    .await;
    assert_eq!(status, 401);
    // A code no clinic can have, or a code and an id of two clinics: the same.
    let other = Uuid::new_v4();
    for bad in [
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": "K7QM4"}),
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": "K7QM40"}),
        json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": code_b, "clinic_id": other}),
    ] {
        let (status, problem) = sign_in(&app, bad).await;
        assert_eq!(status, 401, "{problem}");
    }
    // Longer than any code: a 422 before anything is counted.
    let long = json!({"email": CLINICIAN, "password": B_PASSWORD, "clinic": "x".repeat(100)});
    let r = app.post_anon("/v1/auth/login", long).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "clinic");
}

#[tokio::test]
async fn the_code_is_shown_to_staff_and_printed_by_create_clinic() {
    let app = spawn_app().await;
    let s = app.scenario("Codes").await;
    let code = code_of(&app, &s.clinic.admin).await;
    assert_eq!(code.len(), 6, "{code}");
    assert!(
        aftercare::domain::clinic::ClinicCode::parse(&code).is_ok(),
        "{code}"
    );
    assert_eq!(code_of(&app, &s.clinician).await, code);
    let patient = app.get("/v1/clinic", &s.patients[0].token).await;
    assert!(patient.ok(200)["code"].is_null(), "{}", patient.body);
    // PATCH answers with the code too.
    let changed = app
        .patch("/v1/clinic", &s.clinic.admin, json!({"reminder_hour": 19}))
        .await;
    assert_eq!(changed.ok(200)["code"], code);

    let url = app.db_url.clone();
    let printed = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        aftercare::cli::create_clinic(
            &mut conn,
            "Harbour",
            "Europe/Lisbon",
            "admin@harbour.example",
            PASSWORD,
            None,
        )
        .unwrap()
    })
    .await
    .unwrap();
    let admin = app.login("admin@harbour.example", PASSWORD).await;
    let token = admin["access_token"].as_str().unwrap();
    assert_eq!(printed["clinic_code"], code_of(&app, token).await.as_str());
    assert_ne!(printed["clinic_code"], code.as_str());
}

#[test]
fn the_migration_gives_each_existing_clinic_a_code_of_its_own() {
    let mut admin = PgConnection::establish(&db_url("postgres")).unwrap();
    let name = format!("aftercare_codes_{}", Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    {
        let mut conn = PgConnection::establish(&db_url(&name)).unwrap();
        let is_codes = |conn: &mut PgConnection| {
            conn.pending_migrations(MIGRATIONS).unwrap()[0]
                .name()
                .to_string()
                .ends_with("_clinic_codes")
        };
        while !is_codes(&mut conn) {
            conn.run_next_migration(MIGRATIONS).unwrap();
        }
        diesel::sql_query(
            "INSERT INTO clinics (id, name, timezone)
             SELECT gen_random_uuid(), 'Clinic ' || n, 'Europe/Berlin' FROM generate_series(1, 200) n",
        )
        .execute(&mut conn)
        .unwrap();
        conn.run_pending_migrations(MIGRATIONS).unwrap();
        use aftercare::db::schema::clinics;
        let codes: Vec<String> = clinics::table
            .select(clinics::code)
            .load(&mut conn)
            .unwrap();
        assert_eq!(codes.len(), 200);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 200);
        for code in &codes {
            let parsed = aftercare::domain::clinic::ClinicCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), code);
        }
    }
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}

#[tokio::test]
async fn the_dashboard_asks_for_the_clinic_code_and_remembers_it_on_a_laptop() {
    dashboard(1366, 900).await;
}

#[tokio::test]
async fn the_dashboard_asks_for_the_clinic_code_and_remembers_it_on_a_phone() {
    dashboard(390, 844).await;
}

async fn dashboard(width: u32, height: u32) {
    let app = spawn_app().await;
    let Attack { b, .. } = attack(&app).await;
    let code_b = code_of(&app, &b.admin).await;
    in_browser(width, height, |br| walk(app, b.id, code_b, br)).await;
}

async fn walk(app: TestApp, clinic_b: Uuid, code_b: String, b: Arc<Browser>) {
    let size = if b.is_phone() { "phone" } else { "laptop" };
    let signed_in_to = "const s = JSON.parse(sessionStorage.getItem('aftercare.session') || 'null');
         if (!s || !document.querySelector('[data-testid=worklist-screen]')) return null;
         return JSON.parse(atob(s.access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).clinic;";

    // No code field at first: most staff work at one clinic.
    b.goto(&format!("{}/dashboard", app.base)).await;
    b.type_into("[data-testid=login-email]", CLINICIAN).await;
    let shown = b
        .script(
            "return document.querySelector('[data-testid=login-clinic]').checkVisibility()",
            json!([]),
        )
        .await;
    assert_eq!(shown, false);
    b.type_into("[data-testid=login-password]", B_PASSWORD)
        .await;
    b.click("[data-testid=login-submit]").await;

    // The API answers 409: the form asks for the clinic's code.
    let asked = b
        .until(
            "the clinic code field",
            "const field = document.querySelector('[data-testid=login-clinic]');
             return field.checkVisibility() && document.activeElement === field
               ? document.querySelector('[data-testid=login-error]').textContent : null",
        )
        .await;
    assert!(
        asked.as_str().unwrap().contains("more than one clinic"),
        "{asked}"
    );
    check_screen(
        &b,
        &format!("sign-in-clinic-{size}-1-asked"),
        "the sign-in asking for the clinic code",
        PhoneCheck::Narrowing,
    )
    .await;

    // A code of the wrong form, then B's, typed in lower case.
    b.type_into("[data-testid=login-clinic]", "K7QM4").await;
    b.click("[data-testid=login-submit]").await;
    let error = b
        .until(
            "the code's error",
            "const e = document.querySelector('[data-testid=login-error]').textContent;
             return e.includes('6 letters') ? e : null",
        )
        .await;
    assert!(error.as_str().unwrap().contains("K7QM4X"), "{error}");
    b.script(
        "document.querySelector('[data-testid=login-clinic]').value = ''",
        json!([]),
    )
    .await;
    b.type_into("[data-testid=login-clinic]", &code_b.to_lowercase())
        .await;
    b.click("[data-testid=login-submit]").await;
    let clinic = b.until("signed in to clinic B", signed_in_to).await;
    assert_eq!(clinic, clinic_b.to_string());
    let remembered = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.clinicCodes'))",
            json!([]),
        )
        .await;
    assert_eq!(remembered, json!({CLINICIAN: code_b}));

    // Signed out and back: the email brings its code, and the sign-in goes straight through.
    b.script("sessionStorage.clear(); location.reload()", json!([]))
        .await;
    b.until(
        "the sign-in form",
        "return !!document.querySelector('[data-testid=login-email]')",
    )
    .await;
    b.type_into("[data-testid=login-email]", CLINICIAN).await;
    let offered = b
        .script(
            "const f = document.querySelector('[data-testid=login-clinic]');
             return f.checkVisibility() ? f.value : null",
            json!([]),
        )
        .await;
    assert_eq!(offered, code_b.as_str());
    check_screen(
        &b,
        &format!("sign-in-clinic-{size}-2-remembered"),
        "the sign-in with a remembered clinic code",
        PhoneCheck::Narrowing,
    )
    .await;
    b.type_into("[data-testid=login-password]", B_PASSWORD)
        .await;
    b.click("[data-testid=login-submit]").await;
    let clinic = b.until("signed in to clinic B again", signed_in_to).await;
    assert_eq!(clinic, clinic_b.to_string());

    // Another email on the same browser is not sent the code.
    b.script("sessionStorage.clear(); location.reload()", json!([]))
        .await;
    b.type_into("[data-testid=login-email]", "someone@else.example")
        .await;
    let shown = b
        .script(
            "return document.querySelector('[data-testid=login-clinic]').checkVisibility()",
            json!([]),
        )
        .await;
    assert_eq!(shown, false);
    assert_quiet_console(&b, &["409", "422", "401"]).await;
}

/// How long each kind of answer takes (medians of 9, each from an address of its own so that no
/// limit answers instead), printed: each costs one password check, so the 409 by email alone, a
/// wrong password, an unknown email and an unknown clinic take as long as each other. Run by hand:
/// `cargo nextest run --run-ignored only -E 'test(/sign_in_clinics::timing/)' --no-capture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn timing_of_each_answer() {
    let app = spawn_app().await;
    let Attack { b, .. } = attack(&app).await;
    let code_b = code_of(&app, &b.admin).await;
    let single = "single@lumen.example";
    let body = json!({"email": single, "password": B_PASSWORD, "role": "clinician", "name": "One"});
    app.post("/v1/staff", &b.admin, body).await.ok(201);
    let url = format!("{}/v1/auth/login", app.base);
    let mut next_address = 1u8;
    let mut median = async |expected: u16, body: Value| {
        let mut times = vec![];
        for _ in 0..9 {
            next_address += 1;
            let from = std::net::Ipv4Addr::new(127, 0, 1, next_address);
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::V4(from))
                .build()
                .unwrap();
            let started = std::time::Instant::now();
            let r = client.post(&url).json(&body).send().await.unwrap();
            times.push(started.elapsed());
            assert_eq!(r.status().as_u16(), expected, "{body}");
        }
        times.sort();
        times[4]
    };
    let cases = [
        (
            "409: two clinics, none named",
            median(409, json!({"email": CLINICIAN, "password": WRONG})).await,
        ),
        (
            "401: one clinic, wrong password",
            median(401, json!({"email": single, "password": WRONG})).await,
        ),
        (
            "401: unknown email",
            median(
                401,
                json!({"email": "nobody@lumen.example", "password": WRONG}),
            )
            .await,
        ),
        (
            "401: unknown clinic code",
            median(
                401,
                json!({"email": CLINICIAN, "password": WRONG, "clinic": "ZZZZZZ"}),
            )
            .await,
        ),
        (
            "401: clinic named, wrong password",
            median(
                401,
                json!({"email": CLINICIAN, "password": WRONG, "clinic": code_b}),
            )
            .await,
        ),
        (
            "200: one clinic, right password",
            median(200, json!({"email": single, "password": B_PASSWORD})).await,
        ),
    ];
    for (what, time) in cases {
        println!("{what}: median {time:?}");
    }
}
