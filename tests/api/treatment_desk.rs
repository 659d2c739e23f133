//! The front desk on a patient's page, in headless Chromium at a laptop's and at a phone's size: a
//! treatment with a failed screening is refused without an override reason (the API's error beside
//! the field) and recorded with one; the patient's check-ins show with their notes and aftercare
//! answers, newest first, at the clinic's time; a complication and an outcome are recorded and
//! stored. At a phone's width the page never scrolls sideways, no text is under 11 px, and axe-core
//! finds nothing serious.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_front_desk_records_a_treatment_and_what_followed_on_a_laptop() {
    front_desk(1366, 900).await;
}

#[tokio::test]
async fn the_front_desk_records_a_treatment_and_what_followed_on_a_phone() {
    front_desk(390, 844).await;
}

const EMAIL: &str = "desk@lakeside.example";

struct Seed {
    clinician: String,
    patient: String,
    /// The patient's app, enrolled before the treatment is recorded.
    patient_token: String,
}

async fn front_desk(width: u32, height: u32) {
    let app = spawn_app().await;
    let clinic = app.clinic("Lakeside Skin Clinic", "Europe/Berlin").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Weber")
        .await;
    app.protocol(&clinician, "Face 1.0 mm").await;
    let body = json!({"external_ref": "MRN-7001", "display_name": "Robin Fischer", "fitzpatrick_type": 3,
                      "concerns": ["acne_scars"]});
    let patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
    let (patient_token, _) = app.enroll(&clinician, &patient).await;
    let seed = Seed {
        clinician,
        patient,
        patient_token,
    };
    in_browser(width, height, |b| walk(app, seed, b, width)).await;
}

async fn walk(app: TestApp, seed: Seed, b: Arc<Browser>, width: u32) {
    // A screenshot at the session's size, then the page at a phone's width: it fits, its text is
    // 11 px or more, and axe-core finds nothing serious.
    let check = async |name: &str| {
        let shot = format!("desk-{width}-{name}");
        let screen = format!("the front desk's {name}");
        check_screen(&b, &shot, &screen, PhoneCheck::Narrowing).await;
    };
    let patient_page = format!("{}/dashboard#/patients/{}", app.base, seed.patient);

    // Sign in, straight to the patient's page: no treatment yet.
    b.goto(&patient_page).await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
    b.until(
        "the patient's page without treatments",
        "return document.querySelector('[data-testid=patient-screen]')?.textContent.includes('No treatments recorded yet')",
    )
    .await;

    // Record a treatment three days ago at 10:00, the clinic's time, with active acne: refused
    // without a reason, beside the reason's field.
    let treated_on = Utc::now().with_timezone(&Berlin).date_naive() - Duration::days(3);
    let performed_at: DateTime<Utc> = Berlin
        .from_local_datetime(&treated_on.and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc);
    b.click("[data-testid=record-treatment]").await;
    let form = "[data-testid=treatment-form]";
    b.until(
        "the treatment form, its protocol chosen",
        &format!(
            "return document.querySelector('{form} [name=protocol_id]')?.selectedOptions[0]?.textContent === 'Face 1.0 mm'"
        ),
    )
    .await;
    b.script(
        &format!(
            "document.querySelector('{form} [name=performed_at]').value = '{treated_on}T10:00';
             document.querySelector('{form} [name=needle_depth_mm]').value = '1.25';"
        ),
        json!([]),
    )
    .await;
    b.click(&format!("{form} input[name=areas][value=neck]"))
        .await;
    for code in [
        "active_acne",
        "skin_infection",
        "eczema_psoriasis",
        "keloid_history",
        "bleeding_disorder",
        "pregnancy",
        "skin_allergy",
        "diabetes",
    ] {
        let answer = if code == "active_acne" { "yes" } else { "no" };
        b.click(&format!(
            "[data-testid='contraindications.{code}-{answer}']"
        ))
        .await;
    }
    let notes = "Numbing cream for 30 minutes; tolerated well.";
    b.type_into(&format!("{form} [name=notes]"), notes).await;
    b.click("[data-testid=treatment-form-submit]").await;
    let refused = b
        .until(
            "the API's error beside the override reason",
            &format!(
                "const box = document.querySelector('{form} [data-field=override_reason]');
                 const error = box?.querySelector('.field-error');
                 if (!error || error.hidden || !error.textContent) return null;
                 const area = box.querySelector('textarea');
                 return {{error: error.textContent, invalid: area.getAttribute('aria-invalid'),
                          describedby: area.getAttribute('aria-describedby').split(' ').includes(error.id),
                          focused: document.activeElement === area,
                          line: document.querySelector('[data-testid=treatment-form-error]').textContent}};"
            ),
        )
        .await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("is required when a contraindication is answered true"),
        "{refused}"
    );
    assert_eq!(refused["invalid"], "true", "{refused}");
    assert_eq!(refused["describedby"], true, "{refused}");
    assert_eq!(refused["focused"], true, "{refused}");
    assert!(
        refused["line"]
            .as_str()
            .unwrap()
            .contains("Nothing was recorded"),
        "{refused}"
    );
    let stored = api(
        &app,
        "GET",
        &format!("/v1/patients/{}/treatments", seed.patient),
        &seed.clinician,
        None,
    )
    .await;
    assert_eq!(stored["items"], json!([]), "refused, yet stored");
    check("1-treatment-refused").await;

    // With a reason it is recorded, and the page shows it.
    let reason = "Acne on the chin only; the cheeks were treated, away from it.";
    b.type_into(&format!("{form} [name=override_reason]"), reason)
        .await;
    b.click("[data-testid=treatment-form-submit]").await;
    let record = b
        .until(
            "the recorded treatment on the page",
            "const r = document.querySelector('[data-testid=treatment-record]');
             return r && r.textContent.includes('Treated despite it') ? r.textContent : null",
        )
        .await;
    let record = record.as_str().unwrap();
    assert!(record.contains("Active acne in the area: Yes"), "{record}");
    assert!(
        record.contains("Pregnancy or breastfeeding: No"),
        "{record}"
    );
    assert!(record.contains(reason), "{record}");
    assert!(record.contains(notes), "{record}");
    let stored = api(
        &app,
        "GET",
        &format!("/v1/patients/{}/treatments", seed.patient),
        &seed.clinician,
        None,
    )
    .await;
    let treatment = &stored["items"][0];
    let treatment_id = treatment["id"].as_str().unwrap().to_string();
    assert_eq!(
        treatment["performed_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        performed_at,
        "{treatment}"
    );
    assert_eq!(treatment["needle_depth_mm"], 1.25, "{treatment}");
    assert_eq!(treatment["areas"], json!(["face", "neck"]), "{treatment}");
    assert_eq!(treatment["session_number"], 1, "{treatment}");
    assert_eq!(treatment["contraindications"]["active_acne"], true);
    assert_eq!(treatment["contraindications"]["diabetes"], false);
    assert_eq!(treatment["override_reason"], reason);
    assert_eq!(treatment["notes"], notes);
    let hash = b.script("return location.hash", json!([])).await;
    assert!(
        hash.as_str()
            .unwrap()
            .ends_with(&format!("?treatment={treatment_id}")),
        "{hash}"
    );

    // The patient checks in twice from the app, on days 1 and 2; the page shows both, newest first,
    // with their notes and aftercare answers, at the clinic's time.
    let first_at = performed_at + Duration::days(1) + Duration::hours(8);
    let second_at = performed_at + Duration::days(2) + Duration::hours(1);
    let first = CheckIn::new(
        &treatment_id,
        first_at,
        json!({"redness": 2, "swelling": 1}),
    )
    .aftercare(
        json!({"sunscreen": true, "sun_exposure": false, "exercise": false, "hot_shower": true}),
    )
    .note("Tight and warm in the evening, less after the cream.");
    let second = CheckIn::new(
        &treatment_id,
        second_at,
        json!({"redness": 1, "swelling": 0}),
    )
    .note("Much better today. Can I wear make-up tomorrow?");
    for c in [&first, &second] {
        api(
            &app,
            "POST",
            "/v1/check-ins",
            &seed.patient_token,
            Some(c.body()),
        )
        .await;
    }
    b.call(reqwest::Method::POST, "/refresh", Some(json!({})))
        .await;
    let shown = b
        .until(
            "both check-ins, with their notes and aftercare answers",
            "const items = [...document.querySelectorAll('[data-testid=check-in]')];
             if (items.length < 2) return null;
             return items.map(i => ({
               id: i.dataset.id, heading: i.querySelector('h3').textContent,
               at: i.querySelector('time').getAttribute('datetime'),
               note: i.querySelector('[data-testid=check-in-note]')?.textContent,
               answers: Object.fromEntries([...i.querySelectorAll('[data-testid=aftercare] [data-code]')]
                 .map(d => [d.dataset.code, d.querySelector('dd').textContent]))}));",
        )
        .await;
    assert_eq!(
        shown[0]["id"],
        second.id.to_string(),
        "newest first: {shown:#}"
    );
    assert_eq!(shown[1]["id"], first.id.to_string(), "{shown:#}");
    assert_eq!(shown[0]["note"], second.note.clone().unwrap());
    assert_eq!(shown[1]["note"], first.note.clone().unwrap());
    assert_eq!(
        shown[1]["answers"],
        json!({"sunscreen": "Yes", "sun_exposure": "No", "makeup": "Not answered", "exercise": "No",
               "hot_shower": "Yes"})
    );
    assert_eq!(
        shown[0]["answers"]["sunscreen"], "Not answered",
        "{shown:#}"
    );
    for (item, at, day) in [(&shown[0], second_at, 2), (&shown[1], first_at, 1)] {
        let heading = item["heading"].as_str().unwrap();
        // The clinic's time, on a 24- or a 12-hour clock as the browser's language has it.
        let local = at.with_timezone(&Berlin);
        let (h24, h12) = (local.format("%H:%M"), local.format("%-I:%M %p"));
        assert!(heading.starts_with(&format!("Day {day} ·")), "{heading}");
        assert!(
            heading.contains(&h24.to_string()) || heading.contains(&h12.to_string()),
            "the clinic's time {h24}: {heading}"
        );
        assert_eq!(
            item["at"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap(),
            at
        );
    }
    check("2-check-ins").await;

    // A complication: an onset before the treatment is refused beside its field; then recorded.
    b.click("[data-testid=record-complication]").await;
    let form = "[data-testid=complication-form]";
    b.type_into(
        &format!("{form} [name=term]"),
        "Post-inflammatory hyperpigmentation",
    )
    .await;
    let day_before = treated_on - Duration::days(1);
    b.script(
        &format!(
            "const f = document.querySelector('{form}');
             f.querySelector('[name=grade]').value = '2';
             f.querySelector('[name=outcome]').value = 'recovering';
             f.querySelector('[name=onset_date]').value = '{day_before}';"
        ),
        json!([]),
    )
    .await;
    b.type_into(&format!("{form} [name=notes]"), "Hydroquinone started.")
        .await;
    b.click("[data-testid=complication-form-submit]").await;
    let refused = b
        .until(
            "the API's error beside the onset date",
            &format!(
                "const e = document.querySelector('{form} [data-field=onset_date] .field-error');
                 return e && !e.hidden ? e.textContent : null"
            ),
        )
        .await;
    assert!(
        refused
            .as_str()
            .unwrap()
            .contains("must be between the treatment and today"),
        "{refused}"
    );
    let onset = treated_on + Duration::days(2);
    b.script(
        &format!("document.querySelector('{form} [name=onset_date]').value = '{onset}';"),
        json!([]),
    )
    .await;
    check("3-complication-form").await;
    b.click("[data-testid=complication-form-submit]").await;
    let listed = b
        .until(
            "the complication on the page",
            "return document.querySelector('[data-testid=complication]')?.textContent",
        )
        .await;
    assert!(
        listed
            .as_str()
            .unwrap()
            .contains("Post-inflammatory hyperpigmentation · grade 2"),
        "{listed}"
    );
    let events = api(
        &app,
        "GET",
        &format!("/v1/treatments/{treatment_id}/adverse-events"),
        &seed.clinician,
        None,
    )
    .await;
    let event = &events["items"][0];
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(event["term"], "Post-inflammatory hyperpigmentation");
    assert_eq!(event["grade"], 2);
    assert_eq!(event["serious"], false);
    assert_eq!(event["onset_date"], onset.to_string());
    assert_eq!(event["outcome"], "recovering");
    assert_eq!(event["notes"], "Hydroquinone started.");

    // An outcome, the clinician's, assessed today.
    b.click("[data-testid=record-outcome]").await;
    let form = "[data-testid=outcome-form]";
    b.until(
        "the outcome form",
        &format!("return !!document.querySelector('{form}')"),
    )
    .await;
    b.script(
        &format!(
            "const f = document.querySelector('{form}');
             f.querySelector('[name=gais]').value = '2';
             f.querySelector('[name=satisfaction]').value = '8';
             f.querySelector('[name=goodman_baron]').value = '2';"
        ),
        json!([]),
    )
    .await;
    b.type_into(&format!("{form} [name=notes]"), "Texture much smoother.")
        .await;
    check("4-outcome-form").await;
    b.click("[data-testid=outcome-form-submit]").await;
    let listed = b
        .until(
            "the outcome on the page",
            "return document.querySelector('[data-testid=outcome]')?.textContent",
        )
        .await;
    assert!(
        listed
            .as_str()
            .unwrap()
            .contains("GAIS 2 (Much improved) · satisfaction 8 of 10"),
        "{listed}"
    );
    let outcomes = api(
        &app,
        "GET",
        &format!("/v1/treatments/{treatment_id}/outcomes"),
        &seed.clinician,
        None,
    )
    .await;
    let outcome = &outcomes["items"][0];
    assert_eq!(outcomes["items"].as_array().unwrap().len(), 1, "{outcomes}");
    assert_eq!(outcome["assessor"], "clinician");
    assert_eq!(
        outcome["assessed_on"],
        Utc::now().with_timezone(&Berlin).date_naive().to_string()
    );
    assert_eq!(outcome["gais"], 2);
    assert_eq!(outcome["satisfaction"], 8);
    assert_eq!(outcome["goodman_baron"], 2);
    assert_eq!(outcome["notes"], "Texture much smoother.");
    check("5-recorded").await;

    // Nothing went wrong on the way but the two refusals (422) the test asked for.
    assert_quiet_console(&b, &["status of 422"]).await;
    drop(app);
}

/// Calls the API beside the browser, on a connection of its own (a pooled one may have sat idle
/// past the server's keep-alive while the browser worked); the answer's body, after a success.
async fn api(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.expect("the API answers");
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}
