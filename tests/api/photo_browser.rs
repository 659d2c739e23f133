//! Photos in headless Chromium: the app at a phone's size takes a 3000 x 2000 photo through its
//! file input while offline, keeps it with its check-in, and once the network is back sends the
//! check-in, then the photo, stored exactly once and scaled on the phone (long edge 2,048 px); the
//! patient withdraws its before-and-after consent from the app. The dashboard shows a patient's
//! photos by day and two side by side (day 0 against the latest), with axe-core finding nothing
//! serious; a clinician flags one for review; the alert its check-in raised shows it.

use std::sync::Arc;

use chrono::Utc;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;

/// A camera's photo: 3000 x 2000 pixels of skin-like tones, as a JPEG file of the test's own.
fn camera_photo() -> std::path::PathBuf {
    let pixels = RgbImage::from_fn(3000, 2000, |x, y| {
        Rgb([
            200 + (x % 50) as u8,
            150 + (y % 60) as u8,
            120 + ((x + y) % 40) as u8,
        ])
    });
    let mut jpeg = vec![];
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&pixels)
        .unwrap();
    let path = std::env::temp_dir().join(format!("aftercare-camera-{}.jpg", uuid::Uuid::new_v4()));
    std::fs::write(&path, jpeg).unwrap();
    path
}

/// A small JPEG of one colour, for photos sent through the API.
pub(crate) fn small_photo(shade: u8) -> Vec<u8> {
    let pixels = RgbImage::from_fn(600, 400, |x, _| Rgb([shade, 120 + (x % 40) as u8, 110]));
    let mut jpeg = vec![];
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&pixels)
        .unwrap();
    jpeg
}

/// Midnight UTC today, less `days`, plus an hour: a treatment `days` days ago in a UTC clinic.
pub(crate) fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    midnight - chrono::Duration::days(days) + chrono::Duration::hours(1)
}

struct Phone {
    clinician: String,
    patient: String,
    link: String,
}

/// A patient of a clinic in UTC, treated two days ago under a protocol that asks for photos on
/// days 0, 2 and 7, whose phone is about to open the app's link.
async fn photo_phone(app: &TestApp) -> Phone {
    let clinic = app.clinic("Harbour Skin Clinic", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let body = json!({"name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0,
                      "areas": ["face"], "sessions_planned": 3, "interval_days": 28,
                      "photo_days": [0, 2, 7]});
    let protocol = id_of(app.post("/v1/protocols", &clinician, body).await.ok(201));
    let patient = app.patient(&clinician, "MRN-0001").await;
    app.treatment(&clinician, &patient, &protocol, days_ago(2))
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

#[tokio::test]
async fn a_photo_taken_offline_on_a_phone_is_stored_once_when_the_network_returns() {
    let app = spawn_app().await;
    let phone = photo_phone(&app).await;
    in_browser(390, 844, move |b| photo_offline(app, phone, b)).await;
}

async fn photos_of(app: &TestApp, phone: &Phone) -> Vec<Value> {
    let path = format!("/v1/patients/{}/photos", phone.patient);
    let list = app.get(&path, &phone.clinician).await;
    list.ok(200)["items"].as_array().unwrap().clone()
}

async fn on_screen(b: &Browser, name: &str) {
    b.until(
        &format!("the app's {name} screen"),
        &format!("return document.getElementById('view').dataset.screen === '{name}'"),
    )
    .await;
}

/// The page as it stands: no wider than the phone, and no serious finding of axe-core.
async fn look(b: &Browser, axe: Option<&str>, name: &str) {
    if let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") {
        b.screenshot(&format!("{dir}/app-photo-{name}.png")).await;
    }
    let width = b
        .script("return document.documentElement.scrollWidth", json!([]))
        .await;
    assert!(width.as_u64().unwrap() <= 390, "{name}: {width} px wide");
    b.assert_accessible(axe, &format!("the app's {name}")).await;
}

async fn photo_offline(app: TestApp, phone: Phone, b: Arc<Browser>) {
    let axe = axe_source();
    let camera = camera_photo();
    b.goto(&phone.link).await;
    on_screen(&b, "today").await;
    // Day 2 is a photo day: Today says so.
    b.until(
        "today's photo request",
        "return document.querySelector('[data-testid=photo-asked-today]')?.checkVisibility()",
    )
    .await;
    b.offline(true).await;
    b.until(
        "the offline notice",
        "return !document.querySelector('[data-testid=offline]').hidden",
    )
    .await;

    // The check-in asks for the photo first thing, with the guide.
    b.click_when_ready("[data-testid=tab-check-in]").await;
    b.until(
        "the check-in form",
        "return document.querySelectorAll('[data-testid=check-in-form] fieldset[data-code]').length >= 12",
    )
    .await;
    let part = b
        .script(
            "const part = document.querySelector('[data-testid=photo-part]');
             const input = part.querySelector('input[type=file]');
             return {asked: part.dataset.asked, first: part === document.querySelector('[data-testid=check-in-form]').firstElementChild,
                     accept: input.accept, capture: input.getAttribute('capture'), guide: part.querySelector('#photo-guide').textContent};",
            json!([]),
        )
        .await;
    assert_eq!(part["asked"], "true", "{part}");
    assert_eq!(part["first"], true, "{part}");
    assert_eq!(part["accept"], "image/*", "{part}");
    assert_eq!(part["capture"], "environment", "{part}");
    let guide = part["guide"].as_str().unwrap();
    assert!(
        guide.contains("Same light")
            && guide.contains("Same distance")
            && guide.contains("whole treated area"),
        "{guide}"
    );

    // The camera's photo, through the file input: scaled on the phone, previewed.
    b.type_into("[data-testid=photo-input]", camera.to_str().unwrap())
        .await;
    b.until(
        "the photo ready",
        "return document.querySelector('[data-testid=photo-part]').dataset.photo === 'ready'
             && document.querySelector('[data-testid=photo-preview]').complete",
    )
    .await;
    std::fs::remove_file(&camera).ok();
    b.script(
        "document.querySelectorAll('fieldset[data-code] input[value=\"0\"]').forEach(i => i.click())",
        json!([]),
    )
    .await;
    b.click("[data-testid=care-sunscreen-yes]").await;
    look(&b, axe.as_deref(), "1-photo-chosen").await;

    // Without the clinical-use consent, nothing is kept: the patient is told why.
    b.click("[data-testid=check-in-submit]").await;
    let error = b
        .until(
            "the consent's error",
            "const e = document.querySelector('[data-testid=photo-error]');
             return e.checkVisibility() && {text: e.textContent, focused: document.activeElement.dataset.testid};",
        )
        .await;
    assert!(error["text"].as_str().unwrap().contains("agree"), "{error}");
    assert_eq!(error["focused"], "photo-consent-clinical", "{error}");
    let outbox = b
        .script(
            "return localStorage.getItem('aftercare.app.outbox')",
            json!([]),
        )
        .await;
    assert!(outbox.is_null(), "{outbox}");

    // With it (and the before-and-after use too): kept on the phone with its check-in.
    b.click("[data-testid=photo-consent-clinical]").await;
    b.click("[data-testid=photo-consent-before-after]").await;
    b.click("[data-testid=check-in-submit]").await;
    let result = b
        .until(
            "the check-in and its photo kept on the phone",
            "const r = document.querySelector('[data-testid=check-in-result]');
             return r && {state: r.dataset.state, photo: r.dataset.photo};",
        )
        .await;
    assert_eq!(result, json!({"state": "waiting", "photo": "waiting"}));
    // The photo in IndexedDB is the phone's scaled JPEG.
    let kept = b
        .call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": "
                const done = arguments[arguments.length - 1];
                const id = JSON.parse(localStorage.getItem('aftercare.app.outbox'))[0].check_in.id;
                const open = indexedDB.open('aftercare-app');
                open.onsuccess = () => {
                  const get = open.result.transaction('photos').objectStore('photos').get(id);
                  get.onsuccess = async () => {
                    const bitmap = await createImageBitmap(get.result);
                    done({type: get.result.type, width: bitmap.width, height: bitmap.height});
                  };
                  get.onerror = () => done(String(get.error));
                };
                open.onerror = () => done(String(open.error));", "args": []})),
        )
        .await;
    assert_eq!(
        kept,
        json!({"type": "image/jpeg", "width": 2048, "height": 1365})
    );
    assert_eq!(photos_of(&app, &phone).await, Vec::<Value>::new());
    look(&b, axe.as_deref(), "2-kept-offline").await;

    // Back online: the check-in, then its photo, each stored once.
    b.offline(false).await;
    b.click("[data-testid=tab-today]").await;
    b.until(
        "the photo sent",
        "return document.querySelector('[data-testid=outbox-photo]')?.dataset.state === 'sent'",
    )
    .await;
    let photos = photos_of(&app, &phone).await;
    assert_eq!(photos.len(), 1, "{photos:?}");
    let photo = &photos[0];
    assert_eq!(photo["width"], 2048, "{photo}");
    assert_eq!(photo["height"], 1365, "{photo}");
    assert_eq!(photo["day"], 2, "{photo}");
    assert_eq!(photo["consent"]["before_after"], true, "{photo}");
    let check_ins = app
        .get(
            &format!("/v1/patients/{}/check-ins", phone.patient),
            &phone.clinician,
        )
        .await;
    let check_ins = check_ins.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(check_ins.len(), 1, "{check_ins:?}");
    assert_eq!(photo["check_in_id"], check_ins[0]["id"], "{photo}");
    // Sending again (the phone comes online again, the app opens again) sends nothing more, and
    // the phone no longer keeps the photo's bytes.
    b.script("window.dispatchEvent(new Event('online'))", json!([]))
        .await;
    b.script("window.beforeReload = true; location.reload()", json!([]))
        .await;
    b.until(
        "the app opened again",
        "return !window.beforeReload && document.getElementById('view').dataset.screen === 'today'
             && document.querySelector('[data-testid=outbox-photo]')?.dataset.state === 'sent'",
    )
    .await;
    let left = b
        .call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": "
                const done = arguments[arguments.length - 1];
                const open = indexedDB.open('aftercare-app');
                open.onsuccess = () => {
                  const count = open.result.transaction('photos').objectStore('photos').count();
                  count.onsuccess = () => done(count.result);
                };", "args": []})),
        )
        .await;
    assert_eq!(left, 0);
    assert_eq!(photos_of(&app, &phone).await.len(), 1);
    look(&b, axe.as_deref(), "3-photo-sent").await;

    // An upload whose answer never came is looked for before it is tried again: found, it is not
    // sent a second time.
    assert_eq!(
        resend(
            &b,
            json!({"state": "waiting", "tried": true, "before_after": true}),
            "lost answer"
        )
        .await,
        json!({"state": "sent", "kept": 0})
    );
    assert_eq!(photos_of(&app, &phone).await.len(), 1);

    // The patient withdraws the before-and-after use from the app; the clinical use stays.
    // (Today shows the outbox again once the photo settled.)
    b.click_when_ready("[data-testid=photo-withdraw]").await;
    b.until(
        "the withdrawal",
        "return !document.querySelector('[data-testid=photo-withdraw]')",
    )
    .await;
    let photos = photos_of(&app, &phone).await;
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["consent"]["before_after"], false, "{photos:?}");
    assert!(
        !photos[0]["consent"]["before_after_withdrawn_at"].is_null(),
        "{photos:?}"
    );

    // A photo the server refuses (4xx) is dropped from the phone, and the patient is told.
    assert_eq!(
        resend(
            &b,
            json!({"state": "waiting", "before_after": false}),
            "not a photo"
        )
        .await,
        json!({"state": "refused", "kept": 0})
    );
    b.until(
        "the patient told",
        "return document.querySelector('[data-testid=status]').textContent.includes('did not accept the photo')",
    )
    .await;
    assert_eq!(photos_of(&app, &phone).await.len(), 1);
}

/// Puts the outbox's one photo back as `photo` says, with `bytes` kept for it, and lets the app
/// send (as when the phone comes online); the photo's state once settled, and how many photos the
/// phone still keeps.
async fn resend(b: &Browser, photo: Value, bytes: &str) -> Value {
    b.call(
        reqwest::Method::POST,
        "/execute/async",
        Some(json!({"script": "
            const [photo, bytes, done] = arguments;
            const list = JSON.parse(localStorage.getItem('aftercare.app.outbox'));
            list[0].photo = photo;
            localStorage.setItem('aftercare.app.outbox', JSON.stringify(list));
            const open = indexedDB.open('aftercare-app');
            open.onsuccess = () => {
              const tx = open.result.transaction('photos', 'readwrite');
              tx.objectStore('photos').put(new Blob([bytes], {type: 'image/jpeg'}), list[0].check_in.id);
              tx.oncomplete = () => {
                window.dispatchEvent(new Event('online'));
                done(true);
              };
            };", "args": [photo, bytes]})),
    )
    .await;
    b.until(
        "the photo settled",
        "const item = JSON.parse(localStorage.getItem('aftercare.app.outbox'))[0];
         return item.photo.state !== 'waiting' && item.photo.state;",
    )
    .await;
    b.call(
        reqwest::Method::POST,
        "/execute/async",
        Some(json!({"script": "
            const done = arguments[arguments.length - 1];
            const state = JSON.parse(localStorage.getItem('aftercare.app.outbox'))[0].photo.state;
            const open = indexedDB.open('aftercare-app');
            open.onsuccess = () => {
              const count = open.result.transaction('photos').objectStore('photos').count();
              count.onsuccess = () => done({state, kept: count.result});
            };", "args": []})),
    )
    .await
}

const EMAIL: &str = "dr.photo@harbour.example";

struct Clinic {
    clinician: String,
    patient: String,
    treatment: String,
}

/// A patient treated 7 days ago who sent photos with their check-ins of days 0, 3 and 7, the last
/// with signs of infection (an urgent alert), and one with a check-in of an earlier session; the
/// clinician signs in as [`EMAIL`].
async fn photo_clinic(app: &TestApp) -> Clinic {
    let clinic = app.clinic("Harbour Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Photo")
        .await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let patient = app.patient(&clinician, "MRN-0002").await;
    // An earlier session's photo, of its own day 0, is not among this treatment's.
    let earlier = days_ago(40);
    let first = app
        .treatment(&clinician, &patient, &protocol, earlier)
        .await;
    let performed_at = days_ago(7);
    let treatment = app
        .treatment(&clinician, &patient, &protocol, performed_at)
        .await;
    let (token, _) = app.enroll(&clinician, &patient).await;
    let old = CheckIn::new(
        &first,
        earlier + chrono::Duration::minutes(30),
        json!({"redness": 1}),
    );
    let old = id_of(app.check_in(&token, &old).await.ok(201));
    crate::photos::upload(
        app,
        &token,
        &old,
        "clinical_use=true",
        "image/jpeg",
        small_photo(240),
    )
    .await
    .ok(201);
    for (day, scores) in [
        (0, json!({"redness": 3})),
        (3, json!({"redness": 2})),
        (7, json!({"redness": 1, "infection": 1})),
    ] {
        let at = performed_at + chrono::Duration::days(day) + chrono::Duration::minutes(30);
        let check_in = CheckIn::new(&treatment, at.min(Utc::now()), scores);
        let check_in = id_of(app.check_in(&token, &check_in).await.ok(201));
        let shade = 230 - 20 * day as u8;
        crate::photos::upload(
            app,
            &token,
            &check_in,
            "clinical_use=true",
            "image/jpeg",
            small_photo(shade),
        )
        .await
        .ok(201);
    }
    Clinic {
        clinician,
        patient,
        treatment,
    }
}

#[tokio::test]
async fn the_dashboard_shows_photos_side_by_side_and_a_clinician_flags_one() {
    let app = spawn_app().await;
    let clinic = photo_clinic(&app).await;
    in_browser(1280, 900, move |b| dashboard_photos(app, clinic, b)).await;
}

async fn dashboard_photos(app: TestApp, clinic: Clinic, b: Arc<Browser>) {
    b.goto(&format!(
        "{}/dashboard#/patients/{}?treatment={}",
        app.base, clinic.patient, clinic.treatment
    ))
    .await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;

    // The photos by day, each thumbnail fetched with the session's token.
    let thumbs = b
        .until(
            "the photos' thumbnails",
            "const t = [...document.querySelectorAll('[data-testid=photo-thumb]')];
             if (t.length < 3 || !t.every(x => x.querySelector('img')?.dataset.loaded === 'true' && x.querySelector('img').complete)) return null;
             return t.map(x => ({day: Number(x.dataset.day), alt: x.querySelector('img').alt,
                                 width: x.querySelector('img').naturalWidth}));",
        )
        .await;
    let days: Vec<i64> = thumbs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["day"].as_i64().unwrap())
        .collect();
    assert_eq!(days, [0, 3, 7], "{thumbs}");
    for t in thumbs.as_array().unwrap() {
        assert!(
            t["alt"].as_str().unwrap().starts_with("Photo of day"),
            "{t}"
        );
        assert!(t["width"].as_u64().unwrap() <= 320, "{t}");
    }

    // Side by side: day 0 against the latest at first; either side chosen from its select.
    let panes = "const l = document.querySelector('[data-testid=photo-pane-left]');
         const r = document.querySelector('[data-testid=photo-pane-right]');
         const loaded = (p) => p.querySelector('img')?.dataset.loaded === 'true' && p.querySelector('img').complete;
         if (!l || !r || !loaded(l) || !loaded(r)) return null;
         return [Number(l.dataset.day), Number(r.dataset.day)];";
    assert_eq!(b.until("the side-by-side view", panes).await, json!([0, 7]));
    check_screen(
        &b,
        "photos-side-by-side",
        "the patient's photos side by side",
        PhoneCheck::Narrowing,
    )
    .await;
    // With the keyboard: the left select, focused, moves to the next photo, day 3.
    let left = b.element("[data-testid=photo-pick-left]").await;
    b.script("arguments[0].focus()", json!([{ELEMENT_KEY: left}]))
        .await;
    b.call(
        reqwest::Method::POST,
        &format!("/element/{left}/value"),
        Some(json!({"text": "\u{E015}"})),
    )
    .await;
    let chosen = b
        .until(
            "day 3 on the left",
            &format!("const d = (() => {{ {panes} }})(); return d && d[0] === 3 && d;"),
        )
        .await;
    assert_eq!(chosen, json!([3, 7]));

    // A clinician flags the day-7 photo for a colleague's review: the flag shows, and is stored.
    b.click("[data-testid=photo-thumb][data-day='7'] [data-testid=photo-flag]")
        .await;
    let flag = b
        .until(
            "the review flag",
            "const t = document.querySelector('[data-testid=photo-thumb][data-day=\"7\"]');
             const chip = t.querySelector('[data-testid=photo-flagged]');
             return chip && {text: chip.textContent,
                             pressed: t.querySelector('[data-testid=photo-flag]').getAttribute('aria-pressed')};",
        )
        .await;
    assert!(flag["text"].as_str().unwrap().contains("by you"), "{flag}");
    assert_eq!(flag["pressed"], "true", "{flag}");
    let photos = app
        .get(
            &format!("/v1/patients/{}/photos", clinic.patient),
            &clinic.clinician,
        )
        .await;
    let photos = photos.ok(200)["items"].as_array().unwrap().clone();
    let flagged: Vec<i64> = photos
        .iter()
        .filter(|p| !p["review_flag"].is_null())
        .map(|p| p["day"].as_i64().unwrap())
        .collect();
    assert_eq!(flagged, [7], "{photos:?}");
    assert_eq!(photos.len(), 4, "the earlier session's too: {photos:?}");
    check_screen(
        &b,
        "photo-flagged",
        "a photo flagged for review",
        PhoneCheck::Narrowing,
    )
    .await;

    // The alert the day-7 check-in raised shows its photo in the queue.
    b.goto(&format!("{}/dashboard#/alerts", app.base)).await;
    let shown = b
        .until(
            "the alert's photo",
            "const img = document.querySelector('[data-testid=alert-row] [data-testid=alert-photos] img');
             return img && img.dataset.loaded === 'true' && img.complete && img.alt;",
        )
        .await;
    assert!(
        shown.as_str().unwrap().starts_with("Photo of day 7"),
        "{shown}"
    );
    check_screen(
        &b,
        "alert-photo",
        "an alert with its photo",
        PhoneCheck::Narrowing,
    )
    .await;
}

/// WebDriver's key for an element in a script's arguments.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
