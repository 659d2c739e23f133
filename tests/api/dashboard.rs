//! The clinicians' dashboard: its files are served with a policy of their own, and headless
//! Chromium (Debian's `chromium` and `chromium-driver`) drives it through sign-in, the alert queue,
//! a patient's chart and a protocol comparison, over the W3C WebDriver protocol; every screen
//! is checked with axe-core at a phone's width too.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_with_a_policy_of_its_own() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/dashboard", "text/html"),
        ("/dashboard/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/api.js", "text/javascript"),
        ("/dashboard/charts.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        let body = r.text().await.unwrap();
        if content_type == "text/html" {
            // Works offline: every file comes from this server.
            assert!(
                !body.contains("//"),
                "the page loads something from elsewhere"
            );
            assert!(body.contains("/dashboard/app.js"));
        }
    }
    app.request(reqwest::Method::GET, "/dashboard/nope.js", None, None)
        .await
        .problem(404);
    app.request(reqwest::Method::GET, "/dashboard/a/b", None, None)
        .await
        .problem(404);
    let r = app
        .request(reqwest::Method::POST, "/dashboard", None, Some(&json!({})))
        .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET"));
    // The API keeps its own strict policy, and the dashboard is no API operation.
    let livez = app
        .request(reqwest::Method::GET, "/livez", None, None)
        .await;
    assert!(
        livez
            .header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'; frame-ancestors")
    );
    assert!(
        aftercare::api::openapi()
            .paths
            .paths
            .keys()
            .all(|p| !p.starts_with("/dashboard"))
    );
}

#[tokio::test]
async fn a_clinician_works_through_the_dashboard_in_headless_chromium() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    in_browser(1366, 900, |b| walk(app, seed, b)).await;
}

/// What the browser is shown: a clinic in UTC with two protocols; 22 treatments of "Face 1.0 mm"
/// recovering as usual (enough for its cohort's median, 90th percentile and usual resolution day),
/// one patient whose redness stays severe (a high and two normal alerts, slower than usual), and "Face RF 2.0 mm" with 9
/// treatments that settle faster, one of which reports signs of infection last (urgent).
struct Seed {
    email: String,
    clinician: String,
    face: String,
    rf: String,
    slow_patient: String,
}

const CLINICIAN_EMAIL: &str = "dr.lee@riverside.example";

async fn seed(app: &TestApp) -> Seed {
    let clinic = app.clinic("Riverside Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, CLINICIAN_EMAIL, "clinician", "Dr. Lee")
        .await;
    let face = app.protocol(&clinician, "Face 1.0 mm").await;
    let rf = id_of(
        app.post(
            "/v1/protocols",
            &clinician,
            json!({"name": "Face RF 2.0 mm", "procedure": "rf_microneedling", "needle_depth_mm": 2.0,
                   "areas": ["face"], "sessions_planned": 3, "interval_days": 35}),
        )
        .await
        .ok(201),
    );
    // Performed at 01:00 UTC five days ago; check-ins on days 0-4, all in the past.
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - chrono::Duration::days(5) + chrono::Duration::hours(1);
    let mut n = 0;
    let mut add = async |protocol: &str, name: Option<&str>, days: Vec<Value>| {
        n += 1;
        // The patient with the urgent alert left a number to call.
        let phone = (name == Some("Blake Chen")).then_some("+44 20 7946 0958");
        let body = json!({"external_ref": format!("MRN-{:04}", 1000 + n), "display_name": name,
                          "fitzpatrick_type": 1 + n % 6, "concerns": ["acne_scars"],
                          "contact_phone": phone});
        let patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
        let treatment = app
            .treatment(&clinician, &patient, protocol, performed_at)
            .await;
        let (token, _) = app.enroll(&clinician, &patient).await;
        let check_ins: Vec<CheckIn> = days
            .into_iter()
            .enumerate()
            .map(|(day, scores)| {
                let at = performed_at
                    + chrono::Duration::days(day as i64)
                    + chrono::Duration::minutes(30);
                CheckIn::new(&treatment, at, scores)
            })
            .collect();
        let r = app.check_in_batch(&token, &check_ins).await;
        for result in r.ok(200)["results"].as_array().unwrap() {
            assert_eq!(result["status"], 201, "{result}");
        }
        patient
    };
    for i in 0..22 {
        // Redness from 1-3 fading by a point a day, so all clear by day 3; swelling gone sooner.
        let start = 1 + i % 3;
        let days = (0..5)
            .map(|d: i64| {
                let redness = (start - d).max(0);
                let swelling = (i % 3 - d).max(0);
                json!({"redness": redness, "swelling": swelling, "infection": 0})
            })
            .collect();
        add(&face, None, days).await;
    }
    for i in 0..8 {
        let days = (0..5)
            .map(|d: i64| json!({"redness": (2 - d - i % 2).max(0), "swelling": (1 - d).max(0)}))
            .collect();
        add(&rf, None, days).await;
    }
    // The check-in path reads the cohort as of up to a second ago; a view brings it up to date.
    app.get(&format!("/v1/protocols/{face}/recovery"), &clinician)
        .await
        .ok(200);
    let slow_days = (0..5)
        .map(|_| json!({"redness": 3, "swelling": 1, "infection": 0}))
        .collect();
    let slow_patient = add(&face, Some("Alex Morgan"), slow_days).await;
    let urgent_days = vec![
        json!({"redness": 2, "swelling": 1}),
        json!({"redness": 1, "swelling": 0, "infection": 2}),
    ];
    add(&rf, Some("Blake Chen"), urgent_days).await;
    Seed {
        email: CLINICIAN_EMAIL.into(),
        clinician,
        face,
        rf,
        slow_patient,
    }
}

async fn walk(app: TestApp, seed: Seed, b: Arc<Browser>) {
    // Each screen as a laptop shows it, then at a phone's width: it fits, its text is 11 px or
    // more, and axe-core finds nothing serious.
    let shot = async |name: &str| {
        let screen = format!("the dashboard's {name}");
        check_screen(&b, name, &screen, PhoneCheck::Narrowing).await;
    };

    // Sign in.
    b.goto(&format!("{}/dashboard", app.base)).await;
    b.until(
        "the sign-in form",
        "return !!document.querySelector('[data-testid=login-form]')",
    )
    .await;
    shot("1-sign-in").await;
    b.type_into("[data-testid=login-email]", &seed.email).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
    b.until(
        "the worklist, where the dashboard opens",
        "return !!document.querySelector('[data-testid=worklist-screen]')",
    )
    .await;
    // Blake Chen's card gives the number to call once, above the alert, not again in it.
    let phones = b
        .until(
            "the worklist's first card",
            "const card = document.querySelector('[data-testid=work-card]');
             return card && [...card.querySelectorAll('a[href^=\"tel:\"]')].map(a => [a.dataset.testid, a.getAttribute('href')])",
        )
        .await;
    assert_eq!(phones, json!([["card-phone", "tel:+442079460958"]]));
    b.click("[data-testid=nav-alerts]").await;

    // The queue: the urgent alert first, though it was raised last. The worklist, still on the page
    // while the queue loads, shows alert rows too: only the queue's own rows count.
    let queue_row = "[data-testid=alerts-screen] [data-testid=alert-row]";
    let levels = b
        .until(
            "the alert queue",
            &format!(
                "const rows = [...document.querySelectorAll({queue_row:?})];
                 return rows.length >= 3 ? rows.map(r => r.dataset.level) : null"
            ),
        )
        .await;
    let levels: Vec<&str> = levels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(levels[0], "urgent", "{levels:?}");
    let rank = |l: &str| ["urgent", "high", "normal"].iter().position(|x| *x == l);
    assert!(
        levels.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{levels:?}"
    );
    assert!(levels.contains(&"high"), "{levels:?}");
    let first = b.text(&format!("{queue_row}:first-child")).await;
    assert!(first.contains("Signs of infection"), "{first}");
    assert!(first.contains("Blake Chen"), "{first}");
    assert!(first.contains("Infection: Moderate (2)"), "{first}");
    assert!(first.contains("MRN-"), "{first}");
    assert!(first.contains("☎ +442079460958"), "{first}");
    let call = b
        .script(
            "return document.querySelector(arguments[0] + ' [data-testid=alert-phone]').getAttribute('href')",
            json!([format!("{queue_row}:first-child")]),
        )
        .await;
    assert_eq!(call, "tel:+442079460958");
    let alert = b
        .script(
            "return document.querySelector(arguments[0]).dataset.alertId",
            json!([queue_row]),
        )
        .await;
    let alert = alert.as_str().unwrap().to_string();
    shot("2-alerts").await;
    b.until(
        "the clinic's alert burden above the queue",
        "return !!document.querySelector('[data-testid=alert-burden] tr[data-rule=all]')",
    )
    .await;

    // Acknowledge it, then resolve it with a note.
    let row = format!("[data-alert-id='{alert}']");
    b.click(&format!("{row} [data-testid=alert-ack]")).await;
    b.until(
        "the alert to show as acknowledged",
        &format!("return document.querySelector(\"{row}\")?.dataset.status === 'acknowledged'"),
    )
    .await;
    b.click(&format!("{row} [data-testid=alert-resolve]")).await;
    b.script(
        &format!("document.querySelector(\"{row} [data-testid=alert-action]\").value = 'contacted_patient';"),
        json!([]),
    )
    .await;
    let note = "Called the patient: started antibiotics, photo review tomorrow.";
    b.type_into(&format!("{row} [data-testid=alert-note]"), note)
        .await;
    b.click(&format!("{row} [data-testid=alert-resolve-confirm]"))
        .await;
    b.until(
        "the alert to show as resolved, with its note",
        &format!(
            "const r = document.querySelector(\"{row}\");
             return r?.dataset.status === 'resolved' && r.textContent.includes({note:?})"
        ),
    )
    .await;
    shot("3-resolved").await;
    let stored = api_get(&app, &format!("/v1/alerts/{alert}"), &seed.clinician).await;
    assert_eq!(stored["status"], "resolved");
    assert_eq!(stored["history"][2]["note"], note);
    assert_eq!(stored["history"][2]["action"], "contacted_patient");

    // Back in the tab later, with an access token that no longer works: it is renewed with the
    // refresh token, unseen.
    b.script(
        "const s = JSON.parse(sessionStorage.getItem('aftercare.session'));
         s.access = 'expired.access.token';
         sessionStorage.setItem('aftercare.session', JSON.stringify(s));",
        json!([]),
    )
    .await;

    b.goto(&format!("{}/dashboard#/patients", app.base)).await;
    b.call(reqwest::Method::POST, "/refresh", Some(json!({})))
        .await;

    // The patient list: the slow patient flagged.
    let slow_row = format!(
        "[data-testid=patient-row][data-patient-id='{}']",
        seed.slow_patient
    );
    b.until(
        "the slow patient flagged in the patient list",
        &format!(
            "return !!document.querySelector(\"{slow_row} [data-testid=patient-flag-slower]\")"
        ),
    )
    .await;
    let renewed = b
        .script(
            "return JSON.parse(sessionStorage.getItem('aftercare.session')).access",
            json!([]),
        )
        .await;
    assert_ne!(renewed, "expired.access.token");
    let attention = b.text("[data-testid=attention]").await;
    assert!(attention.contains("Alex Morgan"), "{attention}");
    assert!(
        !attention.contains("Blake Chen"),
        "resolved, yet: {attention}"
    );
    let text = b.text(&slow_row).await;
    assert!(text.contains("Alex Morgan"), "{text}");
    assert!(text.contains("Face 1.0 mm"), "{text}");
    assert!(text.contains("Redness Severe (3)"), "{text}");
    shot("4-patients").await;

    // The patient's redness chart: their line over the cohort's median and band.
    b.click(&format!("{slow_row} [data-testid=patient-link]"))
        .await;
    let chart = b
        .until(
            "the redness chart with the cohort's median and band",
            "const c = document.querySelector('[data-testid=chart-redness]');
             const median = c?.querySelector('[data-testid=cohort-median]')?.getAttribute('d');
             const band = c?.querySelector('[data-testid=cohort-band]')?.getAttribute('d');
             if (!median || !band) return null;
             return {median, band, points: c.querySelectorAll('[data-testid=patient-point]').length,
                     above: c.querySelectorAll('.point.above').length, text: c.textContent};",
        )
        .await;
    assert_eq!(chart["points"], 5, "{chart}");
    assert!(chart["above"].as_u64().unwrap() >= 1, "{chart}");
    assert!(
        chart["text"]
            .as_str()
            .unwrap()
            .contains("Slower than usual"),
        "{chart}"
    );
    let alerts = b.text("[data-testid=patient-alerts]").await;
    assert!(alerts.contains("Severe symptom persisting"), "{alerts}");
    // Five days of cohort figures: a step for each.
    assert_eq!(chart["median"].as_str().unwrap().matches('M').count(), 1);
    assert!(chart["band"].as_str().unwrap().matches('L').count() >= 10);
    shot("5-patient").await;

    // On a phone, no chart text renders under 11 px: its font size times the SVG's scale.
    b.resize_to(390, 844).await;
    let smallest = b
        .until(
            "the patient's charts redrawn for a phone",
            "const sizes = [...document.querySelectorAll('svg.chart text')].map((t) => {
               const svg = t.ownerSVGElement;
               const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
               return parseFloat(getComputedStyle(t).fontSize) * scale;
             });
             const min = Math.min(...sizes);
             return sizes.length && min >= 11 ? min : null;",
        )
        .await;
    assert!(smallest.as_f64().unwrap() >= 11.0, "{smallest}");
    b.resize_to(1366, 900).await;
    // A day without a check-in is a gap in the line, not a line bridging it.
    b.script(
        "import('/dashboard/charts.js').then((m) => {
           const answers = [0, 1, 2, 3, 4].map((value) => ({ value, label: `S${value}` }));
           const days = [0, 1, 3, 4].map((day) => ({ day, score: 4 - day, cohort_median: null, cohort_p90: null }));
           window.gapChart = m.patientChart({ label: 'Gap', days, answers, lastDay: 7 });
         });",
        json!([]),
    )
    .await;
    let line = b
        .until(
            "a chart drawn over a skipped day",
            "return window.gapChart?.querySelector('[data-testid=patient-line]').getAttribute('d');",
        )
        .await;
    assert_eq!(line.as_str().unwrap().matches('M').count(), 2, "{line}");

    // Enroll a phone: a code, its link into the patient app, and the link's QR code to scan.
    b.click("[data-testid=enroll-phone]").await;
    let enroll = b
        .until(
            "the enrollment link and its QR code",
            "const qr = document.querySelector('[data-testid=enroll-qr]');
             const link = document.querySelector('[data-testid=enroll-link]');
             if (!qr || !link) return null;
             return {link: link.getAttribute('href'), code: document.querySelector('[data-testid=enroll-code]').textContent,
                     size: qr.viewBox.baseVal.width, modules: qr.querySelector('path').getAttribute('d').split('M').length - 1};",
        )
        .await;
    let code = enroll["code"].as_str().unwrap();
    let link = enroll["link"].as_str().unwrap();
    assert!(link.ends_with(&format!("/app#code={code}")), "{enroll}");
    // A version 3 or 4 symbol (29 or 33 modules, and the quiet zone), about half of them dark.
    let size = enroll["size"].as_f64().unwrap();
    assert!([37.0, 41.0].contains(&size), "{enroll}");
    assert!(
        enroll["modules"].as_f64().unwrap() > (size - 8.0).powi(2) / 3.0,
        "{enroll}"
    );
    shot("5b-enroll").await;

    // A protocol's curves: daily scores and time to resolution with its band.
    b.click("[data-testid=nav-protocols]").await;
    b.click_when_ready(&format!(
        "[data-testid=protocol-row][data-protocol-id='{}'] [data-testid=protocol-link]",
        seed.face
    ))
    .await;
    b.until(
        "the protocol's recovery curves",
        "return !!document.querySelector('[data-testid=protocol-resolution] [data-testid=km-band]')
             && !!document.querySelector('[data-testid=protocol-daily] [data-testid=cohort-median]')",
    )
    .await;
    shot("6-protocol").await;

    // The two protocols compared: chosen in the form, both on screen with their figures.
    b.click("[data-testid=nav-compare]").await;
    b.click_when_ready(&format!("#compare-a option[value='{}']", seed.face))
        .await;
    b.click(&format!("#compare-b option[value='{}']", seed.rf))
        .await;
    b.click("[data-testid=compare-submit]").await;
    b.until(
        "both protocols compared",
        "return document.querySelectorAll('[data-testid=compare-protocol]').length === 2
             && document.querySelectorAll('[data-testid=km-curve]').length === 2",
    )
    .await;
    let expected = api_get(
        &app,
        &format!("/v1/protocols/compare?ids={},{}", seed.face, seed.rf),
        &seed.clinician,
    )
    .await;
    let cards = b
        .script(
            "return [...document.querySelectorAll('[data-testid=compare-protocol]')].map(c => c.textContent)",
            json!([]),
        )
        .await;
    for (i, (name, count)) in [("Face 1.0 mm", 23), ("Face RF 2.0 mm", 9)]
        .into_iter()
        .enumerate()
    {
        let card = cards[i].as_str().unwrap();
        assert!(card.contains(name), "{card}");
        assert!(card.contains(&format!("{count} treatments")), "{card}");
        assert_eq!(expected["protocols"][i]["treatments"], count);
    }
    let redness = expected["symptoms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "redness")
        .unwrap();
    for p in redness["protocols"].as_array().unwrap() {
        let id = p["protocol_id"].as_str().unwrap();
        let cells = b
            .text(&format!(
                "[data-testid=compare-row][data-symptom=redness][data-protocol-id='{id}']"
            ))
            .await;
        let median = p["median_day"].as_u64().expect("a median day");
        let incidence = (p["incidence"].as_f64().unwrap() * 100.0).round();
        let on_screen = b
            .text(&format!(
                "[data-testid=compare-row][data-symptom=redness][data-protocol-id='{id}'] [data-testid=compare-median]"
            ))
            .await;
        assert_eq!(on_screen, median.to_string(), "{cells}");
        assert!(cells.contains(&format!("{incidence}%")), "{cells}");
    }
    // The chart's symptom with its log-rank verdict, as the API tests it.
    let code = b
        .script(
            "return document.querySelector('#compare-symptom').value",
            json!([]),
        )
        .await;
    let test = &expected["symptoms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .unwrap()["log_rank"];
    let verdict = b.text("[data-testid=compare-logrank]").await;
    let words = match test["p_value"].as_f64() {
        None => "Too few resolutions",
        Some(p) if p < 0.05 => "statistically significant (log-rank)",
        Some(_) => "no meaningful difference",
    };
    assert!(verdict.contains(words), "{verdict} for {test}");
    // The cohort's filters: the first sessions only, carried in the address to the API.
    b.click("#compare-session_number option[value='1']").await;
    b.click("[data-testid=compare-submit]").await;
    b.until(
        "the comparison of first sessions",
        "return location.hash.includes('session_number=1')
             && document.querySelector('#compare-session_number')?.value === '1'
             && document.querySelectorAll('[data-testid=compare-protocol]').length === 2",
    )
    .await;
    shot("7-compare").await;

    // Nothing went wrong on the way: no script error, nothing the page's policy blocked. (The
    // refused access token's 401s were expected.)
    assert_quiet_console(&b, &["status of 401"]).await;
    drop(app);
}
