//! The clinicians' dashboard: its files are served with a policy of their own, and headless
//! Chromium (Debian's `chromium` and `chromium-driver`) drives it through sign-in, the alert queue,
//! a patient's chart and a protocol comparison, over the W3C WebDriver protocol.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

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
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let browser = Arc::new(driver.session().await);
    // The walk runs as its own task so that a failed step still closes the browser.
    let outcome = tokio::spawn(walk(app, seed, browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
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
    let body = json!({"email": CLINICIAN_EMAIL, "password": PASSWORD, "role": "clinician", "name": "Dr. Lee"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    let clinician = app.login(CLINICIAN_EMAIL, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
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
        let body = json!({"external_ref": format!("MRN-{:04}", 1000 + n), "display_name": name,
                          "fitzpatrick_type": 1 + n % 6, "concerns": ["acne_scars"]});
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
    let shots = std::env::var("DASHBOARD_SCREENSHOTS").ok();
    let shot = async |name: &str| {
        if let Some(dir) = &shots {
            b.screenshot(&format!("{dir}/{name}.png")).await;
        }
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

    // The queue: the urgent alert first, though it was raised last.
    let levels = b
        .until(
            "the alert queue",
            "const rows = [...document.querySelectorAll('[data-testid=alert-row]')];
             return rows.length >= 3 ? rows.map(r => r.dataset.level) : null",
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
    let first = b.text("[data-testid=alert-row]:first-child").await;
    assert!(first.contains("Signs of infection"), "{first}");
    assert!(first.contains("Blake Chen"), "{first}");
    assert!(first.contains("Infection: Moderate (2)"), "{first}");
    assert!(first.contains("MRN-"), "{first}");
    let alert = b
        .script(
            "return document.querySelector('[data-testid=alert-row]').dataset.alertId",
            json!([]),
        )
        .await;
    let alert = alert.as_str().unwrap().to_string();
    shot("2-alerts").await;

    // Acknowledge it, then resolve it with a note.
    let row = format!("[data-alert-id='{alert}']");
    b.click(&format!("{row} [data-testid=alert-ack]")).await;
    b.until(
        "the alert to show as acknowledged",
        &format!("return document.querySelector(\"{row}\")?.dataset.status === 'acknowledged'"),
    )
    .await;
    b.click(&format!("{row} [data-testid=alert-resolve]")).await;
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
    shot("7-compare").await;

    // Nothing went wrong on the way: no script error, nothing the page's policy blocked. (The
    // refused access token's 401s were expected.)
    let log = b
        .call(
            reqwest::Method::POST,
            "/se/log",
            Some(json!({"type": "browser"})),
        )
        .await;
    let problems: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .filter(|e| {
            !e["message"]
                .as_str()
                .unwrap_or("")
                .contains("status of 401")
        })
        .collect();
    assert!(problems.is_empty(), "the browser's console: {problems:#?}");
    drop(app);
}

/// Asks the API beside the browser, on a connection of its own: the harness's pooled one may have
/// sat idle past the server's keep-alive while the browser worked.
async fn api_get(app: &TestApp, path: &str, token: &str) -> Value {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let r = client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("JSON")
}

/// Waits up to this long for anything to show.
const PATIENCE: Duration = Duration::from_secs(30);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver of the test's own, on a free port; stopped, with its browser, when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
    client: reqwest::Client,
    /// The browser's profile and temporary files, removed at the end.
    tmp: std::path::PathBuf,
}

impl ChromeDriver {
    /// None, with a notice, where Chromium is not installed, unless `AFTERCARE_BROWSER_TEST=required`.
    async fn start() -> Option<ChromeDriver> {
        if let Some(missing) = [CHROMEDRIVER, CHROMIUM]
            .into_iter()
            .find(|b| !Path::new(b).exists())
        {
            let message = format!(
                "{missing} is missing: the dashboard test drives Debian's headless Chromium; \
                 install it with `apt-get install chromium chromium-driver`"
            );
            assert!(
                std::env::var("AFTERCARE_BROWSER_TEST").as_deref() != Ok("required"),
                "{message}"
            );
            eprintln!("skipped: {message}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tmp = std::env::temp_dir().join(format!("aftercare-chromium-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&tmp).expect("a temporary folder");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the browser goes with it.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            tmp,
        };
        let started = Instant::now();
        loop {
            let status = driver
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await;
            if let Ok(r) = status
                && let Ok(body) = r.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(driver)
    }

    /// A new headless browser window, at a laptop's size.
    async fn session(&self) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1366,900", "--no-first-run", "--lang=en-GB"]
            }
        }}});
        let r = self
            .client
            .post(format!("{}/session", self.url))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers");
        let body: Value = r.json().await.expect("a WebDriver answer");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {body}"));
        Browser {
            client: self.client.clone(),
            url: format!("{}/session/{id}", self.url),
        }
    }
}

impl ChromeDriver {
    /// Asks chromedriver to exit (it closes its browsers first), and waits a while for it.
    async fn stop(mut self) {
        let _ = self
            .client
            .get(format!("{}/shutdown", self.url))
            .send()
            .await;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// One browser session, driven over plain WebDriver HTTP calls.
struct Browser {
    client: reqwest::Client,
    url: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("chromedriver answers");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {path}: {status} {body}");
        body["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Polls `script` until it returns something other than null or false; its answer.
    async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(script, json!([])).await;
            if !v.is_null() && v != false {
                return v;
            }
            if started.elapsed() > PATIENCE {
                let page = self
                    .script("return document.body.innerText.slice(0, 3000)", json!([]))
                    .await;
                panic!("waited {PATIENCE:?} for {what}; the page shows:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().expect("an element").to_string()
    }

    async fn click(&self, css: &str) {
        let el = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks `css` once it is on the page.
    async fn click_when_ready(&self, css: &str) {
        self.until(css, &format!("return !!document.querySelector({css:?})"))
            .await;
        self.click(css).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.until(
            css,
            &format!("return !!document.querySelector({css:?})?.checkVisibility()"),
        )
        .await;
        let el = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let el = self.element(css).await;
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// The whole page, however long, as a PNG.
    async fn screenshot(&self, path: &str) {
        use base64::Engine;
        let height = self
            .script("return document.documentElement.scrollHeight", json!([]))
            .await;
        let height = height.as_u64().unwrap_or(900).max(900);
        let size = |height: u64| json!({"width": 1366, "height": height});
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(size(height + 100)),
        )
        .await;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a PNG");
        std::fs::write(path, bytes).expect("write the screenshot");
        self.call(reqwest::Method::POST, "/window/rect", Some(size(900)))
            .await;
    }

    async fn quit(&self) {
        let _ = self.client.delete(&self.url).send().await;
    }
}
