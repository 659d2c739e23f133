//! The patients' web app: its files are served with a policy of their own, and headless Chromium
//! at a phone's size enrolls from the link, checks in online and offline, is told to call the
//! clinic (at once on a red flag without a network, and again once the server confirms it), reads
//! its recovery chart and its aftercare, switches to German and signs out, with axe-core run on
//! every screen; its answers wrap between words at 390 and 320 px, and a link followed in the open
//! app enrolls it, anew when it was enrolled already.

use std::sync::Arc;

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_app_is_served_from_the_binary_with_a_policy_of_its_own() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/app", "text/html"),
        ("/app/", "text/html"),
        ("/app/app.js", "text/javascript"),
        ("/app/outbox.js", "text/javascript"),
        ("/app/sw.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/app.webmanifest", "application/manifest+json"),
        ("/app/icon.svg", "image/svg+xml"),
        ("/app/icon-192.png", "image/png"),
    ] {
        let r = app.request(reqwest::Method::GET, path, None, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(content_type),
            "{path}"
        );
        let csp = r.header("content-security-policy").unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // The service worker may control the page itself, `/app`, above its own folder.
    let worker = app
        .request(reqwest::Method::GET, "/app/sw.js", None, None)
        .await;
    assert_eq!(worker.header("service-worker-allowed"), Some("/app"));
    // Installable: a manifest whose icons are all served, at the sizes it says.
    let manifest: Value = app
        .client
        .get(format!("{}/app/app.webmanifest", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["start_url"], "/app");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let bytes = app
            .client
            .get(format!("{}{src}", app.base))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let size = icon["sizes"].as_str().unwrap().split('x').next().unwrap();
        if size != "any" {
            // A PNG's width sits at bytes 16-19 of its header.
            assert_eq!(&bytes[..4], b"\x89PNG", "{src}");
            let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            assert_eq!(width.to_string(), size, "{src}");
        }
    }
    // The page loads nothing from elsewhere.
    let page = app
        .client
        .get(format!("{}/app", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("//"),
        "the page loads something from elsewhere"
    );
    app.request(reqwest::Method::GET, "/app/nope.js", None, None)
        .await
        .problem(404);
    let r = app
        .request(reqwest::Method::POST, "/app", None, Some(&json!({})))
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET"));
    assert!(
        aftercare::api::openapi()
            .paths
            .paths
            .keys()
            .all(|p| !p.starts_with("/app"))
    );
}

#[tokio::test]
async fn a_patient_uses_the_app_on_a_phone_in_headless_chromium() {
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let browser = Arc::new(driver.session_at(390, 844).await);
    let outcome = tokio::spawn(walk(app, seed, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A clinic in UTC with its phone number, a protocol with aftercare instructions that 20 patients
/// have recovered from as usual (enough for its band), and the patient of the test, treated three
/// days ago, who checked in on days 0-2 and now gets the app's link.
struct Seed {
    patient: String,
    link: String,
    clinician: String,
}

const PHONE: &str = "+49 30 1234567";
const INSTRUCTIONS: &str = "No make-up for 24 hours.\nSunscreen every day for two weeks.";

async fn seed(app: &TestApp) -> Seed {
    let clinic = app.clinic("Riverside Skin Clinic", "UTC").await;
    app.patch("/v1/clinic", &clinic.admin, json!({"contact_phone": PHONE}))
        .await
        .ok(200);
    let clinician = app.clinician(&clinic).await;
    let body = json!({"name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0,
                      "areas": ["face"], "sessions_planned": 3, "interval_days": 28,
                      "aftercare_instructions": INSTRUCTIONS});
    let protocol = id_of(app.post("/v1/protocols", &clinician, body).await.ok(201));
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - chrono::Duration::days(3) + chrono::Duration::hours(1);
    let add = async |n: usize, days: Vec<Value>| {
        let patient = app.patient(&clinician, &format!("MRN-{n:04}")).await;
        let treatment = app
            .treatment(&clinician, &patient, &protocol, performed_at)
            .await;
        let (token, _) = app.enroll(&clinician, &patient).await;
        let check_ins: Vec<CheckIn> = days
            .into_iter()
            .enumerate()
            .map(|(day, scores)| {
                let at = performed_at + chrono::Duration::days(day as i64);
                CheckIn::new(&treatment, at + chrono::Duration::minutes(30), scores)
            })
            .collect();
        app.check_in_batch(&token, &check_ins).await.ok(200);
        patient
    };
    for i in 0..20 {
        let days = (0..3)
            .map(|d: i64| json!({"redness": (1 + i % 3 - d).max(0), "swelling": (1 - d).max(0)}))
            .collect();
        add(i as usize, days).await;
    }
    let days = vec![
        json!({"redness": 3, "swelling": 2}),
        json!({"redness": 2, "swelling": 1}),
        json!({"redness": 2, "swelling": 0}),
    ];
    let patient = add(100, days).await;
    let code = app
        .post(
            &format!("/v1/patients/{patient}/enrollment-codes"),
            &clinician,
            json!(null),
        )
        .await;
    let code = code.ok(201);
    let link = code["link"].as_str().unwrap().to_string();
    assert!(
        link.ends_with(&format!("/app#code={}", code["code"].as_str().unwrap())),
        "{link}"
    );
    Seed {
        patient,
        link,
        clinician,
    }
}

/// The app's check-ins stored for the patient, by id.
fn stored(app: &TestApp, patient: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    diesel::sql_query(
        "SELECT id::text AS id FROM check_ins WHERE patient_id = $1::uuid ORDER BY recorded_at",
    )
    .bind::<diesel::sql_types::Text, _>(patient)
    .load::<Row>(&mut app.db())
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

/// Answers every question of the check-in form `score` (0 or "No"), then `answers` as given,
/// with real taps, and types `note` into the note field.
async fn check_in(b: &Browser, answers: &[(&str, u8)], note: Option<&str>) {
    b.click_when_ready("[data-testid=tab-check-in]").await;
    b.until(
        "the check-in form",
        "return document.querySelectorAll('[data-testid=check-in-form] fieldset[data-code]').length >= 12",
    )
    .await;
    b.script(
        "document.querySelectorAll('fieldset[data-code] input[value=\"0\"]').forEach(i => i.click())",
        json!([]),
    )
    .await;
    for (code, score) in answers {
        b.click(&format!("[data-testid=answer-{code}-{score}]"))
            .await;
    }
    b.click("[data-testid=care-sunscreen-yes]").await;
    if let Some(note) = note {
        // Beside the field: who reads notes, and when.
        let who_reads = b.text("[data-testid=note-who-reads]").await;
        assert!(who_reads.contains("working hours"), "{who_reads}");
        b.type_into("[data-testid=check-in-note]", note).await;
    }
    b.click("[data-testid=check-in-submit]").await;
}

/// The page as it stands: a screenshot (where `DASHBOARD_SCREENSHOTS` names a folder), no wider
/// than the phone, and no serious finding of axe-core.
async fn look(b: &Browser, axe: Option<&str>, name: &str) {
    if let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") {
        b.screenshot(&format!("{dir}/app-{name}.png")).await;
    }
    let width = b
        .script("return document.documentElement.scrollWidth", json!([]))
        .await;
    assert!(width.as_u64().unwrap() <= 390, "{name}: {width} px wide");
    b.assert_accessible(axe, &format!("the app's {name}")).await;
}

/// Waits for the app to show screen `name`.
async fn on_screen(b: &Browser, name: &str) {
    b.until(
        &format!("the app's {name} screen"),
        &format!("return document.getElementById('view').dataset.screen === '{name}'"),
    )
    .await;
}

async fn walk(app: TestApp, seed: Seed, b: Arc<Browser>) {
    // The app is opened through a gate the walk shuts while it is offline.
    let gate = Gate::to(&app.base).await;
    let axe = axe_source();
    let check = async |name: &str| look(&b, axe.as_deref(), name).await;
    let screen = async |name: &str| on_screen(&b, name).await;

    // Enroll from the link: the code leaves the address bar at once.
    b.goto(&seed.link.replace(&app.base, &gate.base)).await;
    screen("today").await;
    let href = b.script("return location.href", json!([])).await;
    assert!(!href.as_str().unwrap().contains("code"), "{href}");
    let today = b.text("[data-testid=today]").await;
    assert!(today.contains("Face 1.0 mm"), "{today}");
    assert!(today.contains("Day 3"), "{today}");
    assert!(
        today.contains("Your check-in for today is waiting"),
        "{today}"
    );
    check("1-today").await;
    // The service worker controls the page, so it opens offline later.
    b.until(
        "the service worker",
        "return !!navigator.serviceWorker.controller",
    )
    .await;

    // Check in online, with a note: sent at once.
    let note = "Small yellow crust by my chin since this morning - is that normal?";
    check_in(&b, &[("redness", 1)], Some(note)).await;
    b.until(
        "the check-in sent",
        "return document.querySelector('[data-testid=check-in-result]')?.dataset.state === 'sent'",
    )
    .await;
    check("2-sent").await;
    assert_eq!(stored(&app, &seed.patient).len(), 4);
    // The note is on the clinic's worklist, unread.
    let worklist = app.get("/v1/worklist", &seed.clinician).await;
    let worklist = worklist.ok(200);
    let notes: Vec<&Value> = worklist["cards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["unread_notes"].as_array().unwrap())
        .collect();
    assert_eq!(notes.len(), 1, "{worklist}");
    assert_eq!(notes[0]["note"], note);

    // Offline: two check-ins wait on the phone; the app opens again without a network.
    b.offline(true).await;
    gate.shut(true);
    b.until(
        "the offline notice",
        "return !document.querySelector('[data-testid=offline]').hidden",
    )
    .await;
    for _ in 0..2 {
        check_in(&b, &[("redness", 1), ("swelling", 1)], None).await;
        b.until(
            "the check-in kept on the phone",
            "return document.querySelector('[data-testid=check-in-result]')?.dataset.state === 'waiting'",
        )
        .await;
    }
    b.goto(&format!("{}/app", gate.base)).await;
    screen("today").await;
    let waiting = b
        .until(
            "two check-ins waiting to send",
            "const w = [...document.querySelectorAll('[data-testid=outbox-item][data-state=waiting]')];
             return w.length === 2 ? w.map(i => i.dataset.id) : null",
        )
        .await;
    let today = b.text("[data-testid=today]").await;
    assert!(today.contains("Face 1.0 mm"), "{today}");
    check("3-waiting").await;
    assert_eq!(stored(&app, &seed.patient).len(), 4);

    // Back online: both sent, each stored once, and shown as sent.
    gate.shut(false);
    b.offline(false).await;
    b.until(
        "the waiting check-ins sent",
        "return document.querySelectorAll('[data-testid=outbox-item][data-state=sent]').length === 3
             && !document.querySelector('[data-testid=outbox-item][data-state=waiting]')",
    )
    .await;
    let ids = stored(&app, &seed.patient);
    assert_eq!(ids.len(), 6, "{ids:?}");
    for id in waiting.as_array().unwrap() {
        let id = id.as_str().unwrap();
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{id}");
    }
    check("4-sent").await;

    // Signs of infection: call the clinic, with its number.
    check_in(&b, &[("infection", 2)], None).await;
    let phone = b
        .until(
            "the call-the-clinic message",
            "const p = document.querySelector('[data-testid=contact-clinic]');
             const a = p?.querySelector('[data-testid=clinic-phone]');
             return p ? {href: a?.getAttribute('href'), text: p.textContent} : null",
        )
        .await;
    assert!(
        phone["text"]
            .as_str()
            .unwrap()
            .contains("Please contact your clinic now"),
        "{phone}"
    );
    // Stored as `+` and the digits.
    assert_eq!(phone["href"], "tel:+49301234567", "{phone}");
    assert!(
        phone["text"].as_str().unwrap().contains("+49301234567"),
        "{phone}"
    );
    check("5-contact-clinic").await;

    // My recovery: the patient's redness over the band of the protocol's patients.
    b.click("[data-testid=tab-recovery]").await;
    let chart = b
        .until(
            "the redness chart with the usual range",
            "const c = document.querySelector('[data-testid=chart-redness]');
             if (!c?.querySelector('[data-testid=usual-range]')) return null;
             return {points: c.querySelectorAll('[data-testid=my-point]').length,
                     middle: !!c.querySelector('[data-testid=usual-middle]'),
                     text: document.querySelector('[data-testid=recovery]').textContent}",
        )
        .await;
    assert_eq!(chart["points"], 4, "{chart}");
    assert_eq!(chart["middle"], true, "{chart}");
    assert!(
        chart["text"].as_str().unwrap().contains("Usual range"),
        "{chart}"
    );
    check("6-recovery").await;

    // The aftercare instructions, as the clinic wrote them.
    b.click("[data-testid=tab-care]").await;
    screen("care").await;
    let care = b.text("[data-testid=care-instructions]").await;
    assert!(care.contains("Sunscreen every day"), "{care}");
    check("7-care").await;

    // In German, remembered on the phone.
    b.click("[data-testid=language] option[value=de]").await;
    b.goto(&format!("{}/app#/check-in", gate.base)).await;
    let german = b
        .until(
            "the check-in in German",
            "const f = document.querySelector('[data-testid=check-in-form]');
             return f ? document.body.innerText : null",
        )
        .await;
    let german = german.as_str().unwrap();
    for words in [
        "Eintrag für heute",
        "Rötung der behandelten Haut",
        "Mäßig",
        "Sehr stark",
        "Heute",
        "Mein Verlauf",
    ] {
        assert!(german.contains(words), "{words}: {german}");
    }
    assert_eq!(
        b.script("return document.documentElement.lang", json!([]))
            .await,
        "de"
    );
    check("8-german").await;

    // Sign out of this phone: its refresh token stops working, its data is gone.
    let refresh = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.app.session')).refresh",
            json!([]),
        )
        .await;
    b.click("[data-testid=tab-today]").await;
    b.click_when_ready("[data-testid=sign-out]").await;
    screen("enroll").await;
    let left = b
        .script(
            "return Object.keys(localStorage).filter(k => k !== 'aftercare.app.lang')",
            json!([]),
        )
        .await;
    assert_eq!(left, json!([]));
    app.post_anon("/v1/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .problem(401);
    check("9-signed-out").await;
    assert_quiet_console(&b, &["/v1/push/config"]).await;
    drop(app);
}

#[tokio::test]
async fn a_red_flag_without_a_network_says_to_call_the_clinic_at_once() {
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let phone = new_phone(&app).await;
    let browser = Arc::new(driver.session_at(390, 844).await);
    let outcome = tokio::spawn(red_flag_offline(app, phone, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A patient of a clinic in UTC with its phone number, treated two days ago, with no check-in yet,
/// whose phone is about to open the app's link.
struct Phone {
    clinician: String,
    patient: String,
    link: String,
}

async fn new_phone(app: &TestApp) -> Phone {
    let clinic = app.clinic("Harbour Skin Clinic", "UTC").await;
    app.patch("/v1/clinic", &clinic.admin, json!({"contact_phone": PHONE}))
        .await
        .ok(200);
    let clinician = app.clinician(&clinic).await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let patient = app.patient(&clinician, "MRN-0001").await;
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - chrono::Duration::days(2) + chrono::Duration::hours(1);
    app.treatment(&clinician, &patient, &protocol, performed_at)
        .await;
    let path = format!("/v1/patients/{patient}/enrollment-codes");
    let code = app.post(&path, &clinician, json!(null)).await;
    let link = code.ok(201)["link"].as_str().unwrap().to_string();
    Phone {
        clinician,
        patient,
        link,
    }
}

async fn red_flag_offline(app: TestApp, phone: Phone, b: Arc<Browser>) {
    let axe = axe_source();
    let check_ins = async || {
        let path = format!("/v1/patients/{}/check-ins", phone.patient);
        let list = app.get(&path, &phone.clinician).await;
        list.ok(200)["items"].as_array().unwrap().clone()
    };
    b.goto(&phone.link).await;
    on_screen(&b, "today").await;
    b.offline(true).await;
    b.until(
        "the offline notice",
        "return !document.querySelector('[data-testid=offline]').hidden",
    )
    .await;

    // Offline without a red flag: only "saved on this phone".
    check_in(&b, &[("redness", 1)], None).await;
    b.until(
        "the check-in kept on the phone",
        "return document.querySelector('[data-testid=check-in-result]')?.dataset.state === 'waiting'",
    )
    .await;
    let contact = b
        .script(
            "return !!document.querySelector('[data-testid=contact-clinic]')",
            json!([]),
        )
        .await;
    assert_eq!(
        contact, false,
        "a call-the-clinic message without a red flag"
    );

    // Offline with signs of infection: call the clinic, at once, with its number; the answers wait
    // on the phone, and nothing has reached the server.
    check_in(&b, &[("infection", 1)], None).await;
    let panel = b
        .until(
            "the call-the-clinic message without a network",
            "const p = document.querySelector('[data-testid=contact-clinic]');
             if (!p?.checkVisibility()) return null;
             return {href: p.querySelector('[data-testid=clinic-phone]')?.getAttribute('href'),
                     kept: p.querySelector('[data-testid=kept-on-phone]')?.textContent,
                     result: !!document.querySelector('[data-testid=check-in-result]')}",
        )
        .await;
    assert_eq!(panel["href"], "tel:+49301234567", "{panel}");
    assert!(
        panel["kept"]
            .as_str()
            .unwrap_or_default()
            .contains("sent to your clinic when the phone is back online"),
        "{panel}"
    );
    assert_eq!(panel["result"], false, "{panel}");
    let outbox = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.app.outbox'))
               .map(i => ({id: i.check_in.id, state: i.state, red_flag: i.red_flag}))",
            json!([]),
        )
        .await;
    let outbox = outbox.as_array().unwrap().clone();
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert_eq!(outbox[0]["red_flag"], false, "{outbox:?}");
    assert_eq!(outbox[1]["red_flag"], true, "{outbox:?}");
    assert!(outbox.iter().all(|i| i["state"] == "waiting"), "{outbox:?}");
    let red_flag = outbox[1]["id"].as_str().unwrap().to_string();
    look(&b, axe.as_deref(), "10-red-flag-offline").await;
    assert_eq!(check_ins().await, Vec::<Value>::new());

    // Back online: both sent and stored once; the server raised the urgent alert, and Today says
    // so until the patient has seen it.
    b.offline(false).await;
    b.click("[data-testid=tab-today]").await;
    let alerted = b
        .until(
            "the server-confirmed call-the-clinic message",
            "if (document.querySelector('[data-testid=outbox-item][data-state=waiting]')) return null;
             const p = [...document.querySelectorAll('[data-testid=contact-clinic]')];
             if (!p.length || !p[0].querySelector('[data-testid=seen]')) return null;
             return {count: p.length, text: p[0].textContent,
                     href: p[0].querySelector('[data-testid=clinic-phone]')?.getAttribute('href')}",
        )
        .await;
    assert_eq!(alerted["count"], 1, "{alerted}");
    assert_eq!(alerted["href"], "tel:+49301234567", "{alerted}");
    assert!(
        alerted["text"]
            .as_str()
            .unwrap()
            .contains("Your clinic has been alerted"),
        "{alerted}"
    );
    let stored: Vec<Value> = check_ins().await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(
        stored
            .iter()
            .filter(|c| c["id"] == red_flag.as_str())
            .count(),
        1,
        "{stored:?}"
    );
    let path = format!("/v1/alerts?patient_id={}", phone.patient);
    let alerts = app.get(&path, &phone.clinician).await;
    let infection: Vec<&Value> = alerts.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "infection_signs")
        .collect();
    assert_eq!(infection.len(), 1, "{:#}", alerts.body);
    assert_eq!(infection[0]["level"], "urgent", "{:#}", alerts.body);
    look(&b, axe.as_deref(), "11-clinic-alerted").await;

    // "I have seen this": gone, and stays gone when the app opens again.
    b.click("[data-testid=contact-clinic] [data-testid=seen]")
        .await;
    b.until(
        "the message gone",
        "return document.querySelector('[data-testid=today]')
             && !document.querySelector('[data-testid=contact-clinic]')",
    )
    .await;
    b.goto(&format!("{}/app", app.base)).await;
    on_screen(&b, "today").await;
    let shown = b
        .until(
            "the check-ins on this phone",
            "const sent = document.querySelectorAll('[data-testid=outbox-item][data-state=sent]');
             return sent.length === 2 ? {contact: !!document.querySelector('[data-testid=contact-clinic]')} : null",
        )
        .await;
    assert_eq!(shown["contact"], false, "{shown}");
    assert_quiet_console(&b, &["/v1/push/config"]).await;
    drop(app);
}

#[tokio::test]
async fn the_answers_wrap_between_words_never_inside_one_on_a_narrow_phone() {
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let phone = new_phone(&app).await;
    let browser = Arc::new(driver.session_at(390, 844).await);
    let outcome = tokio::spawn(answers_whole(app, phone, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Each answer's and each tab's words, as laid out: a word split across two lines has a client rect
/// on each, and a word wider than its button sticks out of it. The labels whose words do either,
/// and how many labels there are.
const WORDS_WHOLE: &str = "
    const labels = [...document.querySelectorAll('[data-testid=check-in-form] .choice label, .tabs a')];
    const broken = [];
    for (const label of labels) {
      const box = label.getBoundingClientRect();
      for (const node of label.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE) continue;
        for (const m of node.data.matchAll(/\\S+/g)) {
          const range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          const rects = [...range.getClientRects()];
          const lines = new Set(rects.map((r) => Math.round(r.top))).size;
          const outside = rects.some((r) => r.left < box.left - 0.5 || r.right > box.right + 0.5);
          if (lines !== 1 || outside) broken.push(`${m[0]} in ${label.textContent}: ${lines} lines${outside ? ', outside its button' : ''}`);
        }
      }
    }
    return {labels: labels.length, broken, window: innerWidth, width: document.documentElement.scrollWidth};";

async fn answers_whole(app: TestApp, phone: Phone, b: Arc<Browser>) {
    b.goto(&phone.link).await;
    on_screen(&b, "today").await;
    for language in ["en", "de"] {
        if language == "de" {
            b.click("[data-testid=language] option[value=de]").await;
        }
        b.click_when_ready("[data-testid=tab-check-in]").await;
        b.until(
            "the check-in form",
            "return document.querySelectorAll('[data-testid=check-in-form] fieldset[data-code]').length >= 12",
        )
        .await;
        let words = b.script("return document.body.innerText", json!([])).await;
        let expected = if language == "en" {
            ["Moderate", "Very severe"]
        } else {
            ["Mäßig", "Sehr stark"]
        };
        for word in expected {
            assert!(words.as_str().unwrap().contains(word), "{language}: {word}");
        }
        for width in [390, 320] {
            b.resize_to(width, 844).await;
            let found = b.script(WORDS_WHOLE, json!([])).await;
            assert_eq!(found["window"], width, "{found}");
            assert!(found["labels"].as_u64().unwrap() >= 60, "{found}");
            assert_eq!(found["broken"], json!([]), "{language} at {width} px");
            assert!(
                found["width"].as_u64().unwrap() <= width,
                "{language} at {width} px: {found}"
            );
            // A screenshot comes at the session's width.
            if let (Ok(dir), 390) = (std::env::var("DASHBOARD_SCREENSHOTS"), width) {
                b.screenshot(&format!("{dir}/app-answers-{language}.png"))
                    .await;
            }
        }
        b.resize_to(390, 844).await;
        b.click("[data-testid=tab-today]").await;
        on_screen(&b, "today").await;
    }
    assert_quiet_console(&b, &["/v1/push/config"]).await;
    drop(app);
}

#[tokio::test]
async fn an_enrollment_link_followed_in_the_open_app_connects_it() {
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let phone = new_phone(&app).await;
    let browser = Arc::new(driver.session_at(390, 844).await);
    let outcome = tokio::spawn(link_in_open_app(app, phone, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The code of an enrollment link.
fn code_of(link: &str) -> &str {
    link.split_once("#code=").expect("a link with a code").1
}

/// Follows the link to `code` in the tab as it stands (the address changes only in its fragment,
/// as when the phone opens a link to the page it shows), then waits for Today with the phone
/// enrolled for `patient`, in the same page as before; the session it has then.
async fn follow_in_tab(b: &Browser, path: &str, code: &str, patient: &str) -> Value {
    b.script(
        "window.sameTab = true; location.href = arguments[0] + '#code=' + arguments[1]",
        json!([path, code]),
    )
    .await;
    let session = b
        .until(
            "Today, enrolled with the new code",
            &format!(
                "const s = JSON.parse(localStorage.getItem('aftercare.app.session'));
                 return document.getElementById('view').dataset.screen === 'today'
                     && s?.patientId === '{patient}' && s"
            ),
        )
        .await;
    let page = b
        .script(
            "return {same: window.sameTab === true, href: location.href}",
            json!([]),
        )
        .await;
    assert_eq!(page["same"], true, "the page was loaded anew: {page}");
    assert!(
        page["href"].as_str().unwrap().ends_with("#/today"),
        "{page}"
    );
    session
}

async fn link_in_open_app(app: TestApp, phone: Phone, b: Arc<Browser>) {
    b.goto(&format!("{}/app/", app.base)).await;
    on_screen(&b, "enroll").await;
    follow_in_tab(&b, "/app/", code_of(&phone.link), &phone.patient).await;
    let today = b.text("[data-testid=today]").await;
    assert!(today.contains("Face 1.0 mm"), "{today}");
    assert_quiet_console(&b, &["/v1/push/config"]).await;
    drop(app);
}

#[tokio::test]
async fn a_new_enrollment_link_replaces_the_phones_enrollment() {
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let phone = new_phone(&app).await;
    let browser = Arc::new(driver.session_at(390, 844).await);
    let outcome = tokio::spawn(link_over_enrollment(app, phone, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn link_over_enrollment(app: TestApp, phone: Phone, b: Arc<Browser>) {
    let new_code = async |patient: &str| {
        let path = format!("/v1/patients/{patient}/enrollment-codes");
        let code = app.post(&path, &phone.clinician, json!(null)).await;
        code.ok(201)["code"].as_str().unwrap().to_string()
    };
    let refused = async |session: &Value| {
        let refresh = session["refresh"].clone();
        app.post_anon("/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await
            .problem(401);
    };
    let sent = async || {
        b.script(
            "return document.querySelectorAll('[data-testid=outbox-item]').length",
            json!([]),
        )
        .await
    };
    let shows = async |what: &str| {
        b.until(
            what,
            &format!(
                "return document.querySelector('[data-testid=today]')?.textContent.includes({what:?})"
            ),
        )
        .await;
    };

    // Enrolled from the link, with a check-in sent.
    b.goto(&phone.link).await;
    on_screen(&b, "today").await;
    check_in(&b, &[("redness", 1)], None).await;
    b.until(
        "the check-in sent",
        "return document.querySelector('[data-testid=check-in-result]')?.dataset.state === 'sent'",
    )
    .await;
    b.click("[data-testid=tab-today]").await;
    on_screen(&b, "today").await;
    let first = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.app.session'))",
            json!([]),
        )
        .await;
    let path = b.script("return location.pathname", json!([])).await;
    let path = path.as_str().unwrap().to_string();

    // A new treatment of the same patient, and a new link for it: enrolled anew, the old session
    // ended, the check-in on the phone kept.
    let clinician = &phone.clinician;
    let neck = app.protocol(clinician, "Neck 0.5 mm").await;
    let now = Utc::now() - chrono::Duration::minutes(5);
    app.treatment(clinician, &phone.patient, &neck, now).await;
    let code = new_code(&phone.patient).await;
    let second = follow_in_tab(&b, &path, &code, &phone.patient).await;
    assert_ne!(second["refresh"], first["refresh"]);
    shows("Neck 0.5 mm").await;
    assert_eq!(sent().await, 1);
    refused(&first).await;

    // Another patient's link: enrolled for them, nothing of the first patient left on the phone.
    let other = app.patient(clinician, "MRN-0002").await;
    let body = app.protocol(clinician, "Body 1.5 mm").await;
    app.treatment(clinician, &other, &body, now).await;
    let code = new_code(&other).await;
    let third = follow_in_tab(&b, &path, &code, &other).await;
    shows("Body 1.5 mm").await;
    assert_eq!(sent().await, 0);
    refused(&second).await;

    // A code used already changes nothing: the phone stays enrolled, and says why.
    b.script(
        "location.href = arguments[0] + '#code=' + arguments[1]",
        json!([path, code]),
    )
    .await;
    b.until(
        "the code refused",
        "return document.querySelector('[data-testid=status]').textContent.includes('This code doesn’t work')
             && document.getElementById('view').dataset.screen === 'today'",
    )
    .await;
    let now = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.app.session'))",
            json!([]),
        )
        .await;
    assert_eq!(now["refresh"], third["refresh"]);
    shows("Body 1.5 mm").await;
    assert_quiet_console(&b, &["/v1/push/config", "/v1/auth/enroll"]).await;
    drop(app);
}
