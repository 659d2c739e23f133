//! The admin's Settings screen in headless Chromium, at a laptop's width and at a phone's: the
//! admin changes the clinic's phone (first to one that is not a phone number, which the form says
//! beside that field) and reminder hour, adds a clinician (first with an email that is not one),
//! issues them a password reset code and deactivates them; each change is then read back through
//! the API. A clinician is not offered the screen. At the phone's width every step fits the
//! screen, its text is 11 px or more, and axe-core finds nothing serious.

use std::sync::Arc;

use serde_json::json;

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn the_admin_changes_settings_and_manages_staff_on_a_laptop() {
    admin_desk(1366, 900).await;
}

#[tokio::test]
async fn the_admin_changes_settings_and_manages_staff_on_a_phone() {
    admin_desk(390, 844).await;
}

const CLINICIAN: &str = "ito@northgate.example";
const NEW_EMAIL: &str = "amara.osei@northgate.example";
const NEW_PASSWORD: &str = "maple-orbit-canvas-17";

struct Seed {
    admin: String,
    admin_email: String,
}

async fn admin_desk(width: u32, height: u32) {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    in_browser(width, height, |b| walk(app, seed, b)).await;
}

/// A clinic in London with its admin (whose email the staff list tells) and one clinician.
async fn seed(app: &TestApp) -> Seed {
    let clinic = app.clinic("Northgate Skin Clinic", "Europe/London").await;
    let body =
        json!({"email": CLINICIAN, "password": PASSWORD, "role": "clinician", "name": "Dr. Ito"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    let staff = api_get(app, "/v1/staff", &clinic.admin).await;
    let admin_email = staff["items"][0]["email"].as_str().unwrap().to_string();
    Seed {
        admin: clinic.admin,
        admin_email,
    }
}

/// The error shown beside `field` of the form `prefix`, and how the field and the form tell it.
fn field_error(prefix: &str, field: &str) -> String {
    format!(
        "const input = document.querySelector('#{prefix}-{field}');
         const error = document.querySelector('[data-testid={prefix}-error-{field}]');
         if (!error?.textContent) return null;
         return {{error: error.textContent, invalid: input.getAttribute('aria-invalid'),
                 described: input.getAttribute('aria-describedby').split(' ').includes(error.id),
                 focused: document.activeElement === input,
                 summary: document.querySelector('[data-testid={prefix}-form-error]').textContent,
                 others: [...document.querySelectorAll('.field-error')].filter(e => e !== error && e.textContent).length}};"
    )
}

/// The staff list's row of the staff member named `name` once `when` holds of it (`row`): their
/// id, status and buttons.
fn staff_row(name: &str, when: &str) -> String {
    format!(
        "const row = [...document.querySelectorAll('[data-testid=staff-row]')]
           .find(r => r.querySelector('[data-testid=staff-name]').textContent === {name:?});
         return row && ({when}) ? {{id: row.dataset.staffId, text: row.textContent,
                        status: row.querySelector('[data-testid=staff-status]').textContent,
                        deactivate: !!row.querySelector('[data-testid=staff-deactivate]'),
                        reactivate: !!row.querySelector('[data-testid=staff-reactivate]')}} : null;"
    )
}

async fn walk(app: TestApp, seed: Seed, b: Arc<Browser>) {
    let size = if b.is_phone() { "phone" } else { "laptop" };
    // What a screen looks like; axe-core finds nothing serious on it; at a phone's width it fits,
    // the staff table whole inside its frame, and no text is under 11 px.
    let check = async |name: &str| {
        let shot = format!("admin-desk-{size}-{name}");
        let screen = format!("the settings' {name}");
        check_screen(&b, &shot, &screen, PhoneCheck::IfPhone).await;
        if b.is_phone() {
            let table = b
                .script(
                    "const wrap = document.querySelector('[data-testid=staff-table]').parentElement;
                     return wrap.scrollWidth - wrap.clientWidth;",
                    json!([]),
                )
                .await;
            assert_eq!(table, 0, "{screen}: the staff table scrolls by {table} px");
        } else {
            assert_accessible_once_toast_gone(&b, &screen).await;
        }
    };
    let clear = async |css: &str| {
        b.script(
            "document.querySelector(arguments[0]).value = ''",
            json!([css]),
        )
        .await;
    };

    // The admin signs in and opens Settings from the top bar: the clinic and its two staff.
    b.goto(&format!("{}/dashboard", app.base)).await;
    b.type_into("[data-testid=login-email]", &seed.admin_email)
        .await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
    b.until(
        "the worklist, and Settings in the top bar",
        "return !!document.querySelector('[data-testid=worklist-screen]')
             && document.querySelector('[data-testid=nav-settings]').checkVisibility()",
    )
    .await;
    b.click("[data-testid=nav-settings]").await;
    let shown = b
        .until(
            "the settings screen",
            "const rows = document.querySelectorAll('[data-testid=staff-row]');
             return rows.length === 2 && location.hash === '#/settings'
               ? {facts: document.querySelector('[data-testid=clinic-facts]').textContent,
                  staff: [...rows].map(r => r.textContent)}
               : null",
        )
        .await;
    let facts = shown["facts"].as_str().unwrap();
    assert!(facts.contains("Northgate Skin Clinic"), "{facts}");
    assert!(facts.contains("Europe/London"), "{facts}");
    assert!(facts.contains("Not set"), "{facts}");
    assert!(facts.contains("18:00"), "{facts}");
    let code = api_get(&app, "/v1/clinic", &seed.admin).await["code"].clone();
    assert!(facts.contains(code.as_str().unwrap()), "{facts}");
    assert!(shown["staff"][0].as_str().unwrap().contains("(you)"));
    assert!(shown["staff"][1].as_str().unwrap().contains("Dr. Ito"));
    check("1-settings").await;

    // The clinic's phone, first one without its country code: the API's error beside it.
    b.click("[data-testid=edit-clinic]").await;
    b.type_into("#clinic-contact_phone", "0161 496 0000").await;
    b.click("#clinic-reminder_hour option[value='19']").await;
    b.click("[data-testid=clinic-save]").await;
    let error = b
        .until(
            "the phone's error beside it",
            &field_error("clinic", "contact_phone"),
        )
        .await;
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("+49 30 1234 5678"),
        "{error}"
    );
    assert_eq!(error["invalid"], "true", "{error}");
    assert_eq!(error["described"], true, "{error}");
    assert_eq!(error["focused"], true, "{error}");
    assert_eq!(error["summary"], "One field needs a change before saving.");
    assert_eq!(error["others"], 0, "{error}");
    check("2-clinic-error").await;
    let stored = api_get(&app, "/v1/clinic", &seed.admin).await;
    assert_eq!(stored["contact_phone"], json!(null));
    assert_eq!(stored["reminder_hour"], 18);

    // With the country code: saved, and the facts show it.
    clear("#clinic-contact_phone").await;
    b.type_into("#clinic-contact_phone", "+44 161 496 0000")
        .await;
    b.click("[data-testid=clinic-save]").await;
    let facts = b
        .until(
            "the clinic's new settings",
            "const facts = document.querySelector('[data-testid=clinic-facts]').textContent;
             return !document.querySelector('[data-testid=clinic-form]') && facts.includes('+441614960000')
               ? facts : null",
        )
        .await;
    assert!(facts.as_str().unwrap().contains("19:00"), "{facts}");
    let stored = api_get(&app, "/v1/clinic", &seed.admin).await;
    assert_eq!(stored["contact_phone"], "+441614960000");
    assert_eq!(stored["reminder_hour"], 19);
    assert_eq!(stored["timezone"], "Europe/London");

    // Add a clinician, first with an email without its domain's dot: the error beside the email.
    b.click("[data-testid=add-staff]").await;
    b.type_into("#staff-name", "Dr. Amara Osei").await;
    b.type_into("#staff-email", "amara.osei@northgate").await;
    b.click("#staff-role option[value='clinician']").await;
    b.type_into("#staff-password", NEW_PASSWORD).await;
    b.click("[data-testid=staff-save]").await;
    let error = b
        .until(
            "the email's error beside it",
            &field_error("staff", "email"),
        )
        .await;
    assert_eq!(error["error"], "must be an email address", "{error}");
    assert_eq!(error["invalid"], "true", "{error}");
    assert_eq!(error["described"], true, "{error}");
    assert_eq!(error["focused"], true, "{error}");
    assert_eq!(error["summary"], "One field needs a change before saving.");
    assert_eq!(error["others"], 0, "{error}");
    check("3-staff-error").await;

    // With the whole email: added, and in the list, active.
    clear("#staff-email").await;
    b.type_into("#staff-email", NEW_EMAIL).await;
    b.click("[data-testid=staff-save]").await;
    b.until(
        "the form closed",
        "return !document.querySelector('[data-testid=staff-form]')",
    )
    .await;
    let row = b
        .until(
            "the new clinician's row",
            &staff_row("Dr. Amara Osei", "true"),
        )
        .await;
    assert!(row["text"].as_str().unwrap().contains(NEW_EMAIL), "{row}");
    assert!(row["text"].as_str().unwrap().contains("Clinician"), "{row}");
    assert_eq!(row["status"], "Active");
    assert_eq!(row["deactivate"], true);
    let id = row["id"].as_str().unwrap().to_string();
    let stored = api_get(&app, &format!("/v1/staff/{id}"), &seed.admin).await;
    assert_eq!(stored["email"], NEW_EMAIL);
    assert_eq!(stored["role"], "clinician");
    assert_eq!(stored["active"], true);
    app.login(NEW_EMAIL, NEW_PASSWORD).await;

    // A password reset: a one-time code to hand over, which sets a new password.
    b.click(&format!("[data-staff-id='{id}'] [data-testid=staff-reset]"))
        .await;
    let reset = b
        .until(
            "the reset code",
            "const code = document.querySelector('[data-testid=reset-token]');
             return code?.value ? {token: code.value, focused: document.activeElement === code,
               text: document.querySelector('[data-testid=reset-result]').textContent} : null",
        )
        .await;
    assert_eq!(reset["focused"], true, "{reset}");
    let text = reset["text"].as_str().unwrap();
    assert!(text.contains("Dr. Amara Osei"), "{text}");
    assert!(text.contains("until"), "{text}");
    check("4-reset").await;
    let token = reset["token"].as_str().unwrap();
    let redeemed = app
        .post_anon(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "quiet-harbour-lantern-42"}),
        )
        .await;
    redeemed.ok(204);
    app.login(NEW_EMAIL, "quiet-harbour-lantern-42").await;

    // Deactivated: the row says so, and offers to reactivate them; they can't sign in.
    b.click(&format!(
        "[data-staff-id='{id}'] [data-testid=staff-deactivate]"
    ))
    .await;
    let row = b
        .until(
            "the row deactivated",
            &staff_row(
                "Dr. Amara Osei",
                "row.querySelector('[data-testid=staff-reactivate]')",
            ),
        )
        .await;
    assert_eq!(row["status"], "Deactivated");
    assert_eq!(row["deactivate"], false);
    check("5-deactivated").await;
    let stored = api_get(&app, &format!("/v1/staff/{id}"), &seed.admin).await;
    assert_eq!(stored["active"], false);
    let refused = app
        .post_anon(
            "/v1/auth/login",
            json!({"email": NEW_EMAIL, "password": "quiet-harbour-lantern-42"}),
        )
        .await;
    refused.problem(401);

    // Nothing went wrong on the way but the refusals the walk asked for (422s).
    assert_quiet_console(&b, &["status of 422"]).await;

    // The clinician redeems a reset code on the sign-in screen, signs in with the new password,
    // and is not offered Settings.
    let staff = api_get(&app, "/v1/staff?limit=200", &seed.admin).await;
    let ito = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == CLINICIAN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let issued = app
        .post(
            &format!("/v1/staff/{ito}/password-reset"),
            &seed.admin,
            json!(null),
        )
        .await;
    let code = issued.ok(200)["token"].as_str().unwrap().to_string();
    b.click("[data-testid=sign-out]").await;
    b.click_when_ready("[data-testid=reset] summary").await;
    b.type_into("[data-testid=reset-code]", "not-a-code-at-all")
        .await;
    b.type_into("[data-testid=reset-password]", "lantern-quiet-harbour-24")
        .await;
    b.click("[data-testid=reset-submit]").await;
    b.until(
        "the unknown code refused",
        "return document.querySelector('[data-testid=reset-error]').textContent.includes('does not work')",
    )
    .await;
    b.script(
        "document.querySelector('[data-testid=reset-code]').value = ''",
        json!([]),
    )
    .await;
    b.type_into("[data-testid=reset-code]", &code).await;
    b.click("[data-testid=reset-submit]").await;
    b.until(
        "the new password set",
        "return document.querySelector('[data-testid=login-error]').textContent.includes('new password is set')",
    )
    .await;
    if b.is_phone() {
        assert_fits_a_phone(&b, "the sign-in screen's reset code").await;
    }
    assert_accessible_once_toast_gone(&b, "the sign-in screen's reset code").await;
    b.type_into("[data-testid=login-email]", CLINICIAN).await;
    b.type_into("[data-testid=login-password]", "lantern-quiet-harbour-24")
        .await;
    b.click("[data-testid=login-submit]").await;
    let nav = b
        .until(
            "the clinician's worklist",
            "return document.querySelector('[data-testid=worklist-screen]')
               ? {settings: document.querySelector('[data-testid=nav-settings]').checkVisibility(),
                  patients: document.querySelector('[data-testid=nav-patients]').checkVisibility()}
               : null",
        )
        .await;
    assert_eq!(nav, json!({"settings": false, "patients": true}));
    drop(app);
}
