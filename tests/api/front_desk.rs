//! The front desk in headless Chromium, at a laptop's width and at a phone's: a clinician adds a
//! patient through the form (first without a record number, which the form says beside that
//! field), finds them by typing part of their record number into the list's search, opens them
//! and changes their phone. At the phone's width every step fits the screen, no text is under
//! 11 px, and axe-core finds nothing serious.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_front_desk_adds_finds_and_edits_a_patient_on_a_laptop() {
    front_desk(1366, 900).await;
}

#[tokio::test]
async fn the_front_desk_adds_finds_and_edits_a_patient_on_a_phone() {
    front_desk(390, 844).await;
}

const EMAIL: &str = "desk@harbour.example";

async fn front_desk(width: u32, height: u32) {
    let app = spawn_app().await;
    let clinician = seed(&app).await;
    in_browser(width, height, |b| walk(app, clinician, b)).await;
}

/// A clinic in UTC with a clinician, and patients whose record numbers share a prefix with the
/// one the walk adds (`FD-2026-0042`), but not the part typed.
async fn seed(app: &TestApp) -> String {
    let clinic = app.clinic("Harbour Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Ito")
        .await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    for (external_ref, name) in [
        ("FD-2025-0001", "Sam Berg"),
        ("FD-2025-0002", "Noa Silva"),
        ("MRN-7", "Robin Kerr"),
    ] {
        let body =
            json!({"external_ref": external_ref, "display_name": name, "fitzpatrick_type": 2});
        let patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
        let performed_at = Utc::now() - chrono::Duration::days(3);
        app.treatment(&clinician, &patient, &protocol, performed_at)
            .await;
    }
    clinician
}

async fn walk(app: TestApp, clinician: String, b: Arc<Browser>) {
    let size = if b.is_phone() { "phone" } else { "laptop" };
    // What a screen looks like, and at a phone's width: it fits, its text is 11 px or more, and
    // axe-core finds nothing serious.
    let check = async |name: &str| {
        let shot = format!("front-desk-{size}-{name}");
        let screen = format!("the front desk's {name}");
        check_screen(&b, &shot, &screen, PhoneCheck::IfPhone).await;
    };

    // Sign in, straight to the patient list.
    b.goto(&format!("{}/dashboard#/patients", app.base)).await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
    b.until(
        "the patient list",
        "return document.querySelectorAll('[data-testid=patient-row]').length === 3",
    )
    .await;
    check("1-list").await;

    // Add a patient, first without a record number: the API's error shows beside that field.
    b.click("[data-testid=add-patient]").await;
    b.type_into("#patient-display_name", "Robin Okafor").await;
    b.type_into("#patient-birth_year", "1990").await;
    b.click("#patient-fitzpatrick_type option[value='3']").await;
    b.click("#patient-concern-acne_scars").await;
    b.type_into("#patient-contact_phone", "+44 20 7946 0958")
        .await;
    b.click("[data-testid=patient-save]").await;
    let error = b
        .until(
            "the record number's error beside it",
            "const input = document.querySelector('#patient-external_ref');
             const error = document.querySelector('[data-testid=patient-error-external_ref]');
             if (!error?.textContent) return null;
             return {error: error.textContent, invalid: input.getAttribute('aria-invalid'),
                     described: input.getAttribute('aria-describedby').split(' ').includes(error.id),
                     focused: document.activeElement === input,
                     summary: document.querySelector('[data-testid=patient-form-error]').textContent,
                     others: [...document.querySelectorAll('.field-error')].filter(e => e !== error && e.textContent).length};",
        )
        .await;
    assert!(error["error"].as_str().unwrap().contains("1-64"), "{error}");
    assert_eq!(error["invalid"], "true", "{error}");
    assert_eq!(error["described"], true, "{error}");
    assert_eq!(error["focused"], true, "{error}");
    assert_eq!(error["summary"], "One field needs a change before saving.");
    assert_eq!(error["others"], 0, "{error}");
    check("2-add-error").await;

    // With the record number: saved, and the new patient's page opens.
    b.type_into("#patient-external_ref", "FD-2026-0042").await;
    b.click("[data-testid=patient-save]").await;
    let shown = b
        .until(
            "the new patient's page",
            "const name = document.querySelector('[data-testid=patient-name]');
             return name && location.hash.startsWith('#/patients/')
               ? {name: name.textContent, id: location.hash.slice('#/patients/'.length),
                  facts: document.querySelector('[data-testid=patient-facts]').textContent}
               : null",
        )
        .await;
    assert_eq!(shown["name"], "Robin Okafor");
    let facts = shown["facts"].as_str().unwrap();
    assert!(facts.contains("FD-2026-0042"), "{facts}");
    assert!(facts.contains("phone +442079460958"), "{facts}");
    let id = shown["id"].as_str().unwrap().to_string();
    let stored = api_get(&app, &format!("/v1/patients/{id}"), &clinician).await;
    assert_eq!(stored["external_ref"], "FD-2026-0042");
    assert_eq!(stored["birth_year"], 1990);
    assert_eq!(stored["fitzpatrick_type"], 3);
    assert_eq!(stored["concerns"], json!(["acne_scars"]));
    assert_eq!(stored["contact_phone"], "+442079460958");

    // Find them in the list by typing part of their record number.
    b.click("[data-testid=nav-patients]").await;
    b.until(
        "the patient list with four patients",
        "return document.querySelectorAll('[data-testid=patient-row]').length === 4",
    )
    .await;
    b.type_into("[data-testid=patient-search]", "fd-2026-00")
        .await;
    let found = b
        .until(
            "only the new patient, announced",
            &format!(
                "const rows = [...document.querySelectorAll('[data-testid=patient-row]')];
                 return rows.length === 1 && rows[0].dataset.patientId === '{id}'
                   ? {{row: rows[0].textContent, results: document.querySelector('[data-testid=patient-results]').textContent,
                      live: document.querySelector('[data-testid=patient-results]').getAttribute('aria-live'),
                      label: document.querySelector('[data-testid=patient-search]').getAttribute('aria-label'),
                      address: location.hash}}
                   : null"
            ),
        )
        .await;
    assert!(
        found["row"].as_str().unwrap().contains("Robin Okafor"),
        "{found}"
    );
    assert_eq!(found["results"], "1 patient found.");
    assert_eq!(found["live"], "polite");
    assert!(!found["label"].as_str().unwrap().is_empty());
    assert_eq!(found["address"], "#/patients?q=fd-2026-00");
    check("3-found").await;

    // Open them, and change the phone: first to one that is not a phone number.
    b.click(&format!(
        "[data-testid=patient-row][data-patient-id='{id}'] [data-testid=patient-link]"
    ))
    .await;
    b.click_when_ready("[data-testid=edit-patient]").await;
    let phone_field = "#patient-contact_phone";
    b.until(
        "the form, filled in",
        "return document.querySelector('#patient-contact_phone')?.value === '+442079460958'",
    )
    .await;
    b.script(
        "document.querySelector('#patient-contact_phone').value = ''",
        json!([]),
    )
    .await;
    b.type_into(phone_field, "020 7946 0000").await;
    b.click("[data-testid=patient-save]").await;
    let error = b
        .until(
            "the phone's error beside it",
            "const error = document.querySelector('[data-testid=patient-error-contact_phone]');
             return error?.textContent ? {error: error.textContent,
               invalid: document.querySelector('#patient-contact_phone').getAttribute('aria-invalid')} : null",
        )
        .await;
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("+49 30 1234 5678"),
        "{error}"
    );
    assert_eq!(error["invalid"], "true");
    check("4-edit-error").await;
    b.script(
        "document.querySelector('#patient-contact_phone').value = ''",
        json!([]),
    )
    .await;
    b.type_into(phone_field, "+44 20 7946 0000").await;
    b.click("[data-testid=patient-save]").await;
    b.until(
        "the page with the new phone",
        "return document.querySelector('[data-testid=patient-facts]')?.textContent.includes('phone +442079460000')
             && !document.querySelector('[data-testid=patient-form]')",
    )
    .await;
    check("5-edited").await;
    let stored = api_get(&app, &format!("/v1/patients/{id}"), &clinician).await;
    assert_eq!(stored["contact_phone"], "+442079460000");
    assert_eq!(stored["display_name"], "Robin Okafor");
    assert_eq!(stored["external_ref"], "FD-2026-0042");

    // Nothing went wrong on the way but the refusals the walk asked for (422s).
    assert_quiet_console(&b, &["status of 422"]).await;
    drop(app);
}
