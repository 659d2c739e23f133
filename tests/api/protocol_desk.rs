//! Setting up a protocol in headless Chromium, at a laptop's width and at a phone's: a clinician
//! opens "New protocol" on the protocols list and fills it in. Check-in days the form can't read,
//! a needle depth the API refuses and a name the clinic already uses are each shown beside their
//! field; once they are put right the protocol is created, shows in the list and opens, and the
//! API holds what was entered. At the phone's width every step fits the screen, no text is under
//! 11 px and axe-core finds nothing serious.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn a_clinician_sets_up_a_protocol_on_a_laptop() {
    protocol_desk(1366, 900).await;
}

#[tokio::test]
async fn a_clinician_sets_up_a_protocol_on_a_phone() {
    protocol_desk(390, 844).await;
}

const EMAIL: &str = "protocols@riverside.example";
/// The clinic's protocol before the walk, whose name the walk first tries again.
const TAKEN: &str = "Face 1.0 mm";
const NAME: &str = "Scalp PRP 0.5 mm";

async fn protocol_desk(width: u32, height: u32) {
    let app = spawn_app().await;
    let clinic = app.clinic("Riverside Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Osei")
        .await;
    app.protocol(&clinician, TAKEN).await;
    in_browser(width, height, |b| walk(app, clinician, b)).await;
}

/// Waits for the error beside the field `name` (`#protocol-{name}`); it, and what else the page
/// says of it: the control marked invalid, described by the error and focused, the form's summary,
/// and how many other fields show an error.
async fn error_beside(b: &Browser, name: &str) -> Value {
    b.until(
        &format!("the error beside {name}"),
        &format!(
            "const input = document.querySelector('#protocol-{name}');
             const error = document.querySelector('[data-testid=protocol-{name}-error]');
             if (!error?.textContent || error.hidden) return null;
             return {{error: error.textContent, invalid: input.getAttribute('aria-invalid'),
                     described: input.getAttribute('aria-describedby').split(' ').includes(error.id),
                     focused: document.activeElement === input,
                     summary: document.querySelector('[data-testid=protocol-form-error]').textContent,
                     others: [...document.querySelectorAll('.protocol-form .field-error')]
                       .filter(e => e !== error && e.textContent && !e.hidden).length}};"
        ),
    )
    .await
}

/// Asserts that the error beside the field is the only one, marks its field, and holds `words`.
fn assert_alone(error: &Value, words: &str) {
    assert!(error["error"].as_str().unwrap().contains(words), "{error}");
    assert_eq!(error["invalid"], "true", "{error}");
    assert_eq!(error["described"], true, "{error}");
    assert_eq!(error["focused"], true, "{error}");
    assert_eq!(
        error["summary"], "One field needs a change before saving.",
        "{error}"
    );
    assert_eq!(error["others"], 0, "{error}");
}

async fn replace(b: &Browser, css: &str, text: &str) {
    b.script(
        "document.querySelector(arguments[0]).value = ''",
        json!([css]),
    )
    .await;
    b.type_into(css, text).await;
}

async fn walk(app: TestApp, clinician: String, b: Arc<Browser>) {
    let size = if b.is_phone() { "phone" } else { "laptop" };
    // What a screen looks like, and at a phone's width: it fits, its text is 11 px or more, and
    // axe-core finds nothing serious.
    let check = async |name: &str| {
        let shot = format!("protocol-desk-{size}-{name}");
        let screen = format!("the protocol desk's {name}");
        check_screen(&b, &shot, &screen, PhoneCheck::IfPhone).await;
    };

    // Sign in, straight to the protocols list: the clinic's one protocol.
    b.goto(&format!("{}/dashboard#/protocols", app.base)).await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
    b.until(
        "the protocols list",
        "return document.querySelectorAll('[data-testid=protocol-row]').length === 1",
    )
    .await;
    check("1-list").await;

    // The form, its schedule filled in with the API's default; the name field has the focus.
    b.click("[data-testid=new-protocol]").await;
    let opened = b
        .until(
            "the new protocol form",
            "const form = document.querySelector('[data-testid=protocol-form]');
             return form ? {days: document.querySelector('#protocol-check_in_days').value,
                            focused: document.activeElement.id,
                            expanded: document.querySelector('[data-testid=new-protocol]').getAttribute('aria-expanded')} : null",
        )
        .await;
    assert_eq!(opened["days"], "0-14, 21, 28", "{opened}");
    assert_eq!(opened["focused"], "protocol-name", "{opened}");
    assert_eq!(opened["expanded"], "true", "{opened}");

    // Filled in with a name in use, a needle depth over 3 mm, and a day that is not a number: the
    // form itself names the day, beside the check-in days.
    b.type_into("#protocol-name", TAKEN).await;
    b.click("#protocol-procedure option[value='microneedling_prp']")
        .await;
    b.click("#protocol-area-scalp").await;
    b.type_into("#protocol-needle_depth_mm", "3.5").await;
    b.type_into("#protocol-sessions_planned", "4").await;
    b.type_into("#protocol-interval_days", "30").await;
    replace(&b, "#protocol-check_in_days", "0, 1, 2, 3, 7, l4, 30").await;
    b.type_into(
        "#protocol-aftercare_instructions",
        "No hair wash for 24 hours.\nNo hats until day 2.",
    )
    .await;
    b.click("[data-testid=protocol-save]").await;
    let error = error_beside(&b, "check_in_days").await;
    assert_alone(&error, "“l4” is not a day");
    check("2-days-error").await;

    // The days put right: the API refuses the depth, beside it.
    replace(&b, "#protocol-check_in_days", "0, 1, 2, 3, 7, 14, 30").await;
    b.click("[data-testid=protocol-save]").await;
    let error = error_beside(&b, "needle_depth_mm").await;
    assert_alone(&error, "at most 3 mm");
    assert_eq!(error["error"], "Must be more than 0 and at most 3 mm.");

    // The depth put right: the name is taken, and the form says so beside it.
    replace(&b, "#protocol-needle_depth_mm", "0.5").await;
    b.click("[data-testid=protocol-save]").await;
    let error = error_beside(&b, "name").await;
    assert_alone(&error, "has this name");
    assert_eq!(
        error["error"],
        "Another of the clinic’s protocols has this name."
    );
    check("3-name-error").await;

    // A name of its own: created; the form closes and the list shows the new protocol.
    replace(&b, "#protocol-name", NAME).await;
    b.click("[data-testid=protocol-save]").await;
    let shown = b
        .until(
            "the new protocol in the list",
            &format!(
                "const rows = [...document.querySelectorAll('[data-testid=protocol-row]')];
                 const row = rows.find(r => r.querySelector('[data-testid=protocol-link]').textContent === {NAME:?});
                 return row && !document.querySelector('[data-testid=protocol-form]')
                   ? {{rows: rows.length, id: row.dataset.protocolId, text: row.textContent,
                      toast: document.getElementById('toast').textContent,
                      focused: document.activeElement.dataset.testid}}
                   : null"
            ),
        )
        .await;
    assert_eq!(shown["rows"], 2, "{shown}");
    let text = shown["text"].as_str().unwrap();
    assert!(
        text.contains("Microneedling with PRP · 0.5 mm · Scalp · 4 sessions, 30 days apart"),
        "{text}"
    );
    assert!(text.contains("0, 1, 2, 3, 7, 14, 30"), "{text}");
    assert!(shown["toast"].as_str().unwrap().contains(NAME), "{shown}");
    assert_eq!(shown["focused"], "new-protocol", "{shown}");
    check("4-created").await;

    // It opens.
    let id = shown["id"].as_str().unwrap().to_string();
    b.click(&format!(
        "[data-testid=protocol-row][data-protocol-id='{id}'] [data-testid=protocol-link]"
    ))
    .await;
    b.until(
        "the new protocol's page",
        &format!(
            "return document.querySelector('[data-testid=protocol-name]')?.textContent === {NAME:?}
                 && location.hash === '#/protocols/{id}'"
        ),
    )
    .await;
    check("5-protocol").await;

    // The API holds what was entered.
    let stored = api_get(&app, &format!("/v1/protocols/{id}"), &clinician).await;
    assert_eq!(stored["name"], NAME);
    assert_eq!(stored["procedure"], "microneedling_prp");
    assert_eq!(stored["needle_depth_mm"], 0.5);
    assert_eq!(stored["areas"], json!(["scalp"]));
    assert_eq!(stored["sessions_planned"], 4);
    assert_eq!(stored["interval_days"], 30);
    assert_eq!(stored["check_in_days"], json!([0, 1, 2, 3, 7, 14, 30]));
    assert_eq!(
        stored["aftercare_instructions"],
        "No hair wash for 24 hours.\nNo hats until day 2."
    );
    let all = api_get(&app, "/v1/protocols", &clinician).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");

    // Nothing went wrong on the way but the refusals the walk asked for.
    assert_quiet_console(&b, &["status of 422", "status of 409"]).await;
    drop(app);
}
