//! SMART App Launch in headless Chromium. A patient's standalone launch: the authorization request
//! reaches the patients' app on the phone (the dashboard's consent page passes it on, nobody being
//! signed in there), which asks in plain words; "Allow" sends the browser back to the app with a
//! code that trades for a token with the patient in context; "Connected apps" lists the app and
//! withdraws its access, and the token stops working. An EHR launch: the patient's page's "Open"
//! button opens the app's launch URL with `iss` and `launch`, and the clinician's approval on the
//! dashboard's consent page, which names each scope in words, ends with a token for that patient.
//! A patient whose browser has no connected app goes from the dashboard's sign-in to the app, connects
//! it with the clinic's code and then decides. axe-core finds nothing serious on either consent
//! screen, on "Connected apps" nor on the app's connect screen.

use std::sync::Arc;

use serde_json::json;

use crate::browser::*;
use crate::helpers::*;
use crate::smart_flow::{param, pkce, token_request};

const EMAIL: &str = "dr.smart@clinic.example";

struct Setup {
    admin: String,
    clinician: String,
    patient: String,
    link: String,
}

async fn setup(app: &TestApp) -> Setup {
    let clinic = app.clinic("Smart Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Smart")
        .await;
    let patient = app.patient(&clinician, "MRN-SMART-1").await;
    let path = format!("/v1/patients/{patient}/enrollment-codes");
    let code = app.post(&path, &clinician, json!(null)).await;
    let link = code.ok(201)["link"].as_str().unwrap().to_string();
    Setup {
        admin: clinic.admin,
        clinician,
        patient,
        link,
    }
}

/// Where the app gets its code back: a page of the server's own, so the browser lands somewhere.
fn callback(app: &TestApp) -> String {
    format!("{}/livez", app.base)
}

/// Registers a public app that comes back to [`callback`] and launches at `launch_url`.
async fn register(app: &TestApp, admin: &str, launch_url: &str) -> String {
    let body = json!({"name": "Scar photo analysis", "redirect_uris": [callback(app)],
                      "launch_url": launch_url, "client_type": "public",
                      "scopes": "launch launch/patient patient/*.rs"});
    id_of(app.post("/v1/smart-apps", admin, body).await.ok(201))
}

/// The app's authorization request, as the app would send the browser to it.
fn authorize_url(
    app: &TestApp,
    client: &str,
    scope: &str,
    challenge: &str,
    launch: Option<&str>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs([
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", &callback(app)),
        ("scope", scope),
        ("state", "s-browser"),
        ("aud", &format!("{}/fhir/R4", app.base)),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]);
    if let Some(launch) = launch {
        query.append_pair("launch", launch);
    }
    format!("{}/fhir/R4/auth/authorize?{}", app.base, query.finish())
}

/// Waits for the browser to be back at the app's redirect URI; the code it carries.
async fn code_at_callback(b: &Browser, app: &TestApp) -> String {
    let at = b
        .until(
            "the browser back at the app's redirect URI",
            &format!(
                "return location.href.startsWith({:?}) && location.href",
                callback(app)
            ),
        )
        .await;
    let at = at.as_str().unwrap();
    assert_eq!(param(at, "state").as_deref(), Some("s-browser"), "{at}");
    param(at, "code").unwrap_or_else(|| panic!("no code in {at}"))
}

/// Trades the code as a public app does; the token response.
async fn exchange(app: &TestApp, client: &str, code: &str, verifier: &str) -> serde_json::Value {
    let redirect = callback(app);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect),
        ("client_id", client),
        ("code_verifier", verifier),
    ];
    token_request(app, &form).await.ok(200).clone()
}

#[tokio::test]
async fn a_standalone_launch_approved_in_the_patient_app_gives_a_token_for_that_patient() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    in_browser(390, 844, move |b| patient_launch(app, setup, b)).await;
}

async fn patient_launch(app: TestApp, setup: Setup, b: Arc<Browser>) {
    let axe = axe_source();
    let client = register(&app, &setup.admin, "http://127.0.0.1:9/launch").await;
    b.goto(&setup.link).await;
    b.until(
        "the app connected",
        "return document.getElementById('view').dataset.screen === 'today'",
    )
    .await;

    // The app sends the browser to the authorization endpoint: the patient decides in their app.
    let (verifier, challenge) = pkce();
    let scope = "launch/patient patient/Observation.rs patient/Patient.rs";
    b.goto(&authorize_url(&app, &client, scope, &challenge, None))
        .await;
    let consent = b
        .until(
            "the app's consent screen",
            "const c = document.querySelector('[data-testid=smart-consent]');
             return location.pathname === '/app/' && c?.checkVisibility() &&
               {title: c.querySelector('h1').textContent,
                scopes: [...c.querySelectorAll('[data-testid=smart-scopes] li')].map(li => li.textContent)};",
        )
        .await;
    assert_eq!(
        consent["title"], "Let Scar photo analysis see your record?",
        "{consent}"
    );
    assert_eq!(
        consent["scopes"],
        json!([
            "Your symptom scores from your check-ins",
            "Your details (name, year of birth)"
        ])
    );
    assert_fits_a_phone(&b, "the app's consent screen").await;
    b.assert_accessible(axe.as_deref(), "the app's consent screen")
        .await;
    b.click("[data-testid=smart-approve]").await;

    // Back at the app with a code; the token names the patient and reads their record.
    let code = code_at_callback(&b, &app).await;
    let token = exchange(&app, &client, &code, &verifier).await;
    assert_eq!(token["patient"], json!(setup.patient), "{token}");
    assert_eq!(
        token["scope"],
        "launch/patient patient/Observation.rs patient/Patient.rs"
    );
    let access = token["access_token"].as_str().unwrap().to_string();
    let path = format!("/fhir/R4/Patient/{}", setup.patient);
    app.get(&path, &access).await.ok(200);

    // "Connected apps", from Today: the app, in plain words; withdrawn, its token stops at once.
    b.goto(&format!("{}/app/#/today", app.base)).await;
    b.click_when_ready("[data-testid=smart-apps-link]").await;
    let listed = b
        .until(
            "the connected apps",
            "const a = [...document.querySelectorAll('[data-testid=smart-connected-app]')];
             return a.length > 0 && a.map(x => ({id: x.dataset.appId, name: x.querySelector('h2').textContent}));",
        )
        .await;
    assert_eq!(
        listed,
        json!([{"id": client, "name": "Scar photo analysis"}])
    );
    assert_fits_a_phone(&b, "the app's connected apps").await;
    b.assert_accessible(axe.as_deref(), "the app's connected apps")
        .await;
    b.script("window.confirm = () => true;", json!([])).await;
    b.click("[data-testid=smart-withdraw]").await;
    b.until(
        "no app connected",
        "return !!document.querySelector('[data-testid=smart-none]')",
    )
    .await;
    assert_eq!(app.get(&path, &access).await.status, 401);
    let session = b
        .script(
            "return JSON.parse(localStorage.getItem('aftercare.app.session')).access",
            json!([]),
        )
        .await;
    let mine = app
        .get("/v1/smart/authorizations", session.as_str().unwrap())
        .await;
    assert_eq!(mine.ok(200)["items"], json!([]));
}

#[tokio::test]
async fn an_ehr_launch_from_the_dashboards_open_button_and_consent_page() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    in_browser(1280, 900, move |b| ehr_launch(app, setup, b)).await;
}

async fn ehr_launch(app: TestApp, setup: Setup, b: Arc<Browser>) {
    let launch_url = "http://127.0.0.1:9/launch";
    let client = register(&app, &setup.admin, launch_url).await;
    b.goto(&format!(
        "{}/dashboard#/patients/{}",
        app.base, setup.patient
    ))
    .await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    let for_patients = b
        .script(
            "return !!document.querySelector('[data-testid=login-patient-app]')",
            json!([]),
        )
        .await;
    assert_eq!(
        for_patients, false,
        "a patient's way only on an app's request"
    );
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;

    // "Open" on the patient's page: the app's launch URL, with iss and a launch.
    b.until(
        "the patient's apps",
        "return !!document.querySelector('[data-testid=smart-launch]')",
    )
    .await;
    b.script(
        "window.open = (url) => { window.opened = url; return null; };",
        json!([]),
    )
    .await;
    b.click("[data-testid=smart-launch]").await;
    let opened = b.until("the app opened", "return window.opened").await;
    let opened = opened.as_str().unwrap();
    assert!(opened.starts_with(launch_url), "{opened}");
    let iss = format!("{}/fhir/R4", app.base);
    assert_eq!(
        param(opened, "iss").as_deref(),
        Some(iss.as_str()),
        "{opened}"
    );
    let launch = param(opened, "launch").expect("a launch");

    // The app asks with that launch: the clinician approves on the consent page.
    let (verifier, challenge) = pkce();
    b.goto(&authorize_url(
        &app,
        &client,
        "launch patient/*.rs",
        &challenge,
        Some(&launch),
    ))
    .await;
    let title = b
        .until(
            "the dashboard's consent page",
            "const c = document.querySelector('[data-testid=smart-consent]');
             return location.pathname === '/dashboard/' && c?.checkVisibility() && c.querySelector('h1').textContent;",
        )
        .await;
    assert_eq!(title, "Allow Scar photo analysis to read Aftercare data?");
    let scopes = b
        .script(
            "return [...document.querySelectorAll('[data-testid=smart-consent] [data-testid=smart-scopes] li')]
               .map(li => li.textContent)",
            json!([]),
        )
        .await;
    assert_eq!(
        scopes,
        json!(["Everything in the patient’s record patient/*.rs"]),
        "in words, with the scope"
    );
    check_screen(
        &b,
        "smart-consent",
        "the consent page",
        PhoneCheck::Narrowing,
    )
    .await;
    b.click("[data-testid=smart-approve]").await;
    let code = code_at_callback(&b, &app).await;
    let token = exchange(&app, &client, &code, &verifier).await;
    assert_eq!(token["patient"], json!(setup.patient), "{token}");
    let access = token["access_token"].as_str().unwrap();
    let path = format!("/fhir/R4/Patient/{}", setup.patient);
    app.get(&path, access).await.ok(200);
    // The clinician approved the app; the patient did not.
    let mine = app.get("/v1/smart/authorizations", &setup.clinician).await;
    assert_eq!(mine.ok(200)["items"][0]["app_id"], json!(client));
}

#[tokio::test]
async fn a_patient_whose_browser_has_no_connected_app_connects_it_then_decides() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    in_browser(390, 844, move |b| patient_connects_first(app, setup, b)).await;
}

async fn patient_connects_first(app: TestApp, setup: Setup, b: Arc<Browser>) {
    let axe = axe_source();
    let client = register(&app, &setup.admin, "http://127.0.0.1:9/launch").await;
    let (verifier, challenge) = pkce();
    let scope = "launch/patient patient/Observation.rs";
    b.goto(&authorize_url(&app, &client, scope, &challenge, None))
        .await;

    // Nobody is signed in here and no app is connected: the dashboard's sign-in shows the way to
    // the app, which asks for the clinic's code first and keeps the request meanwhile.
    b.until(
        "the dashboard's sign-in, with a patient's way",
        "return !!document.querySelector('[data-testid=login-patient-app-link]')",
    )
    .await;
    check_screen(
        &b,
        "smart-sign-in",
        "the sign-in on an app's request",
        PhoneCheck::IfPhone,
    )
    .await;
    b.click("[data-testid=login-patient-app-link]").await;
    let hint = b
        .until(
            "the app's connect screen, for the app's request",
            "const p = document.querySelector('[data-testid=enroll-for-app]');
             return location.pathname === '/app/' && p?.checkVisibility() && p.textContent",
        )
        .await;
    assert!(
        hint.as_str()
            .unwrap()
            .starts_with("An app asks to see your record."),
        "{hint}"
    );
    assert_fits_a_phone(&b, "the app's connect screen for an app").await;
    b.assert_accessible(axe.as_deref(), "the app's connect screen for an app")
        .await;
    let code = setup
        .link
        .split("#code=")
        .nth(1)
        .expect("a code in the link");
    b.type_into("[data-testid=enroll-code]", code).await;
    b.click("[data-testid=enroll-submit]").await;

    // Connected: the request's consent screen, not Today.
    let scopes = b
        .until(
            "the consent screen, once connected",
            "const c = document.querySelector('[data-testid=smart-consent]');
             return c?.checkVisibility() &&
               [...c.querySelectorAll('[data-testid=smart-scopes] li')].map(li => li.textContent);",
        )
        .await;
    assert_eq!(scopes, json!(["Your symptom scores from your check-ins"]));
    b.click("[data-testid=smart-approve]").await;
    let code = code_at_callback(&b, &app).await;
    let token = exchange(&app, &client, &code, &verifier).await;
    assert_eq!(token["patient"], json!(setup.patient), "{token}");
    assert_eq!(token["scope"], scope);
}
