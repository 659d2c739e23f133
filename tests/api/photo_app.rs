//! The app's "My photos" in headless Chromium at a phone's size: every photo the patient sent
//! (more than the ten check-ins Today lists), each with its thumbnail, its day since treatment and
//! its date; the patient withdraws one photo's before-and-after consent and gives another's, and
//! the API holds both. Also: Today's photo request is the server's word (`photo_asked_today`).

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;
use crate::photo_browser::{days_ago, small_photo};

/// How many photos the patient sent: more than Today's list of sent check-ins holds.
const SENT: usize = 12;

struct Sent {
    clinician: String,
    patient: String,
    link: String,
}

/// A patient of a clinic in UTC, treated 6 days ago, who sent a photo with each of [`SENT`]
/// check-ins, 12 hours apart (the even ones also for before-and-after use), from another phone;
/// this phone is about to open the app's link.
async fn photos_sent(app: &TestApp) -> Sent {
    let clinic = app.clinic("Harbour Skin Clinic", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let body = json!({"name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0,
                      "areas": ["face"], "sessions_planned": 3, "interval_days": 28,
                      "photo_days": [0, 3, 6]});
    let protocol = id_of(app.post("/v1/protocols", &clinician, body).await.ok(201));
    let patient = app.patient(&clinician, "MRN-0003").await;
    let performed_at = days_ago(6);
    let treatment = app
        .treatment(&clinician, &patient, &protocol, performed_at)
        .await;
    let (token, _) = app.enroll(&clinician, &patient).await;
    for n in 0..SENT {
        let at = performed_at + chrono::Duration::hours(12 * n as i64 + 1);
        let check_in = CheckIn::new(&treatment, at.min(Utc::now()), json!({"redness": 1}));
        let check_in = id_of(app.check_in(&token, &check_in).await.ok(201));
        let query = format!("clinical_use=true&before_after={}", n % 2 == 0);
        crate::photos::upload(
            app,
            &token,
            &check_in,
            &query,
            "image/jpeg",
            small_photo(200 + n as u8),
        )
        .await
        .ok(201);
    }
    let path = format!("/v1/patients/{patient}/enrollment-codes");
    let code = app.post(&path, &clinician, json!(null)).await;
    let link = code.ok(201)["link"].as_str().unwrap().to_string();
    Sent {
        clinician,
        patient,
        link,
    }
}

#[tokio::test]
async fn the_patient_sees_every_photo_and_withdraws_and_gives_its_before_after_consent() {
    let app = spawn_app().await;
    let sent = photos_sent(&app).await;
    in_browser(390, 844, move |b| my_photos(app, sent, b)).await;
}

async fn consent_of(app: &TestApp, sent: &Sent, id: &str) -> Value {
    let path = format!("/v1/patients/{}/photos?limit=100", sent.patient);
    let list = app.get(&path, &sent.clinician).await;
    let items = list.ok(200)["items"].as_array().unwrap();
    let photo = items.iter().find(|p| p["id"] == id).unwrap();
    photo["consent"].clone()
}

/// The screen's photos, as shown: id, caption, consent, the button's words, the thumbnail loaded.
const SHOWN: &str = "[...document.querySelectorAll('[data-testid=my-photo]')].map((li) => ({
      id: li.dataset.id, before_after: li.dataset.beforeAfter,
      caption: li.querySelector('.caption').textContent,
      button: li.querySelector('[data-testid=my-photo-toggle]').textContent,
      loaded: li.querySelector('[data-testid=my-photo-thumbnail]')?.dataset.loaded === 'true'
        && li.querySelector('[data-testid=my-photo-thumbnail]').naturalWidth === 320,
    }))";

async fn my_photos(app: TestApp, sent: Sent, b: Arc<Browser>) {
    let axe = axe_source();
    b.goto(&sent.link).await;
    b.until(
        "the app's Today",
        "return document.getElementById('view').dataset.screen === 'today'",
    )
    .await;
    // Day 6 is a photo day: the server says so, and Today shows it.
    b.until(
        "today's photo request",
        "return document.querySelector('[data-testid=photo-asked-today]')?.checkVisibility()",
    )
    .await;

    b.click_when_ready("[data-testid=my-photos-link]").await;
    b.until(
        "every photo with its thumbnail",
        &format!("return {SHOWN}.filter((p) => p.loaded).length === {SENT}"),
    )
    .await;
    let shown = b.script(&format!("return {SHOWN}"), json!([])).await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), SENT);
    // Newest first: the last photo sent (day 5, 132 hours after) opens the list.
    let first = shown[0]["caption"].as_str().unwrap();
    assert!(first.starts_with("Day 5 · "), "{first}");
    assert!(
        shown[SENT - 1]["caption"]
            .as_str()
            .unwrap()
            .starts_with("Day 0 · ")
    );
    b.assert_accessible(axe.as_deref(), "the app's My photos")
        .await;
    let width = b
        .script("return document.documentElement.scrollWidth", json!([]))
        .await;
    assert!(width.as_u64().unwrap() <= 390, "{width} px wide");

    // The newest (the 12th, odd: care only) gets the consent; the next (even: given) loses it.
    let (given, withdrawn) = (&shown[0], &shown[1]);
    assert_eq!(given["before_after"], "false", "{given}");
    assert_eq!(given["button"], "Allow before-and-after use");
    assert_eq!(withdrawn["before_after"], "true", "{withdrawn}");
    assert_eq!(withdrawn["button"], "Withdraw before-and-after use");
    for (photo, now) in [(withdrawn, "false"), (given, "true")] {
        let id = photo["id"].as_str().unwrap();
        b.click(&format!(
            "[data-testid=my-photo][data-id='{id}'] [data-testid=my-photo-toggle]"
        ))
        .await;
        b.until(
            "the consent changed",
            &format!(
                "const li = document.querySelector(\"[data-testid=my-photo][data-id='{id}']\");
                 return li.dataset.beforeAfter === '{now}' && !li.querySelector('button').disabled;"
            ),
        )
        .await;
    }
    let consent = consent_of(&app, &sent, withdrawn["id"].as_str().unwrap()).await;
    assert_eq!(consent["before_after"], false, "{consent}");
    assert!(!consent["before_after_withdrawn_at"].is_null(), "{consent}");
    let consent = consent_of(&app, &sent, given["id"].as_str().unwrap()).await;
    assert_eq!(consent["before_after"], true, "{consent}");
    assert!(!consent["before_after_at"].is_null(), "{consent}");

    // Shown again (in German), the screen says what the server holds.
    b.click("[data-testid=language] option[value=de]").await;
    b.until(
        "the screen in German",
        &format!(
            "const li = document.querySelector(\"[data-testid=my-photo][data-id='{}']\");
             return document.querySelector('#photos-title')?.textContent === 'Meine Fotos'
               && li?.dataset.beforeAfter === 'false'
               && li.querySelector('button').textContent === 'Vorher-nachher-Verwendung erlauben';",
            withdrawn["id"].as_str().unwrap()
        ),
    )
    .await;
    drop(app);
}
