//! The worklist: a card per treatment with its open alerts and unread notes, in the order a clinic
//! should work through them; taking a card; marking a note read; who is due today.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

fn cards(worklist: &Value) -> Vec<Value> {
    worklist["cards"].as_array().unwrap().clone()
}

#[tokio::test]
async fn todays_fever_comes_first_one_card_per_treatment_with_its_notes() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let (p0, p1) = (&s.patients[0], &s.patients[1]);
    let now = Utc::now();
    // Weeks ago, patient 1's earlier treatment: redness still moderate on day 5 (a normal alert).
    let old_at = now - Duration::days(20);
    let old = app
        .treatment(&s.clinician, &p1.id, &s.protocol, old_at)
        .await;
    let late = CheckIn::new(&old, old_at + Duration::days(5), json!({"redness": 2}));
    app.check_in(&p1.token, &late).await.ok(201);
    // Today: patient 0 has a fever and very severe pain (two alerts, one card); patient 1 writes.
    let bad = CheckIn::new(&p0.treatment, now, json!({"fever": 1, "pain": 4}));
    app.check_in(&p0.token, &bad).await.ok(201);
    let words = "Small yellow crust by my chin since this morning - is that normal?";
    let noted = CheckIn::new(&p1.treatment, now, json!({"infection": 0})).note(words);
    let noted = app.check_in(&p1.token, &noted).await.ok(201)["id"].clone();
    // Three weeks ago: day 21 is a check-in day, and nothing has come today.
    let due_at = now - Duration::days(21) - Duration::minutes(1);
    let due = app
        .treatment(&s.clinician, &p0.id, &s.protocol, due_at)
        .await;
    app.check_in(
        &other.patients[0].token,
        &CheckIn::new(&other.patients[0].treatment, now, json!({"fever": 1})),
    )
    .await
    .ok(201);

    let phone = json!({"contact_phone": "+49 30 1234567"});
    app.patch(&format!("/v1/patients/{}", p0.id), &s.clinician, phone)
        .await
        .ok(200);
    let list = app.get("/v1/worklist", &s.clinician).await;
    let list = list.ok(200).clone();
    assert_eq!(list["timezone"], "Europe/Berlin");
    let first = cards(&list);
    let order: Vec<&str> = first
        .iter()
        .map(|c| c["treatment_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [p0.treatment.as_str(), old.as_str(), p1.treatment.as_str()],
        "{list:#}"
    );
    let fever = &first[0];
    assert_eq!(fever["level"], "urgent");
    let mut rules: Vec<&str> = fever["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    rules.sort();
    assert_eq!(rules, ["fever", "very_severe"]);
    assert_eq!(fever["patient"]["external_ref"], "MRN-0");
    assert_eq!(fever["patient"]["contact_phone"], "+49301234567");
    assert_eq!(fever["reported_day"], 2);
    assert_eq!(fever["assignee"], Value::Null);
    // The weeks-old alert says when the patient reported it, not when it was raised.
    assert_eq!(first[1]["level"], "normal");
    assert_eq!(first[1]["reported_day"], 5);
    let reported: chrono::DateTime<Utc> =
        first[1]["reported_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (reported - (old_at + Duration::days(5)))
            .num_seconds()
            .abs()
            <= 1
    );
    // The note with no alert waits on a card of its own.
    assert_eq!(first[2]["level"], Value::Null);
    assert_eq!(first[2]["alerts"], json!([]));
    assert_eq!(first[2]["unread_notes"][0]["note"], words);
    assert_eq!(first[2]["unread_notes"][0]["check_in_id"], noted);
    let due_rows = list["due_today"].as_array().unwrap();
    assert_eq!(due_rows.len(), 1, "{list:#}");
    assert_eq!(due_rows[0]["treatment_id"], due.as_str());
    assert_eq!(due_rows[0]["day"], 21);

    // Read: the note leaves the worklist; reading it again keeps the first reader.
    let path = format!("/v1/check-ins/{}/note-read", noted.as_str().unwrap());
    let read = app
        .post(&path, &s.clinician, json!(null))
        .await
        .ok(200)
        .clone();
    let me = app.get("/v1/me", &s.clinician).await.ok(200)["user_id"].clone();
    assert_eq!(read["read_by"], me);
    let again = app.post(&path, &s.clinic.admin, json!(null)).await;
    assert_eq!(again.ok(200)["read_by"], me);
    app.post(&path, &other.clinician, json!(null))
        .await
        .problem(404);
    let no_note = format!("/v1/check-ins/{}/note-read", late.id);
    app.post(&no_note, &s.clinician, json!(null))
        .await
        .problem(404);
    let list = app.get("/v1/worklist", &s.clinician).await;
    assert_eq!(cards(list.ok(200)).len(), 2);

    // Take a card: everyone sees who has it; give it back.
    let take = format!("/v1/treatments/{}/assignee", p0.treatment);
    let taken = app
        .request(reqwest::Method::PUT, &take, Some(&s.clinician), None)
        .await;
    assert_eq!(taken.ok(200)["staff_id"], me);
    let seen = app.get("/v1/worklist", &s.clinic.admin).await;
    assert_eq!(cards(seen.ok(200))[0]["assignee"]["staff_id"], me);
    let theirs = app
        .request(reqwest::Method::PUT, &take, Some(&other.clinician), None)
        .await;
    theirs.problem(404);
    let back = app
        .request(reqwest::Method::DELETE, &take, Some(&s.clinician), None)
        .await;
    assert_eq!(back.status, 204);
    let seen = app.get("/v1/worklist", &s.clinician).await;
    assert_eq!(cards(seen.ok(200))[0]["assignee"], Value::Null);

    // Not for patients; another clinic sees only its own.
    app.get("/v1/worklist", &p0.token).await.problem(403);
    let theirs = app.get("/v1/worklist", &other.clinician).await;
    assert_eq!(cards(theirs.ok(200)).len(), 1);
}

/// In headless Chromium: the dashboard opens on the worklist, today's infection first with the
/// patient's name; a clinician takes the card and marks the note read; at a phone's width it fits
/// and axe-core finds nothing serious.
#[tokio::test]
async fn a_clinician_works_the_worklist_in_headless_chromium() {
    use crate::browser::*;
    let app = spawn_app().await;
    let clinic = app.clinic("Riverside Skin Clinic", "UTC").await;
    let email = "dr.kim@riverside.example";
    let body =
        json!({"email": email, "password": PASSWORD, "role": "clinician", "name": "Dr. Kim"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    let clinician = app.login(email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let mut treatments = vec![];
    for (n, name) in ["Ada Park", "Ben Ortiz"].iter().enumerate() {
        let body = json!({"external_ref": format!("MRN-{n}"), "display_name": name});
        let patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
        let at = Utc::now() - Duration::days(3);
        let treatment = app.treatment(&clinician, &patient, &protocol, at).await;
        let (token, _) = app.enroll(&clinician, &patient).await;
        treatments.push((treatment, token));
    }
    let note = CheckIn::new(&treatments[0].0, Utc::now(), json!({"redness": 1}))
        .note("Is a little peeling normal?");
    app.check_in(&treatments[0].1, &note).await.ok(201);
    let urgent = CheckIn::new(&treatments[1].0, Utc::now(), json!({"infection": 2}));
    app.check_in(&treatments[1].1, &urgent).await.ok(201);

    in_browser(1366, 900, |b| async move {
        b.goto(&format!("{}/dashboard", app.base)).await;
        b.until(
            "the sign-in form",
            "return !!document.querySelector('[data-testid=login-form]')",
        )
        .await;
        b.type_into("[data-testid=login-email]", email).await;
        b.type_into("[data-testid=login-password]", PASSWORD).await;
        b.click("[data-testid=login-submit]").await;
        let levels = b
            .until(
                "the worklist's cards",
                "const c = [...document.querySelectorAll('[data-testid=work-card]')];
                 return c.length === 2 ? c.map(x => x.dataset.level) : null",
            )
            .await;
        assert_eq!(levels, json!(["urgent", "note"]));
        let shots = std::env::var("DASHBOARD_SCREENSHOTS").ok();
        if let Some(dir) = &shots {
            b.screenshot(&format!("{dir}/worklist.png")).await;
        }
        let first = b.text("[data-testid=work-card]:first-child").await;
        assert!(
            first.contains("Ben Ortiz") && first.contains("Signs of infection"),
            "{first}"
        );
        assert!(first.contains("day 3 after treatment"), "{first}");
        b.click("[data-testid=work-card]:first-child [data-testid=card-take]")
            .await;
        b.until(
            "the card to say it is mine",
            "return document.querySelector('[data-testid=work-card] [data-testid=card-assignee]')?.textContent === 'Assigned to you'",
        )
        .await;
        // The infection, recorded as a complication from its card, prefilled.
        b.click("[data-testid=card-complication]").await;
        let form = "[data-testid=complication-form]";
        let term = b
            .until(
                "the prefilled complication form",
                &format!("return document.querySelector('{form} [name=term]')?.value || null"),
            )
            .await;
        assert_eq!(term, "Skin infection");
        b.script(
            &format!(
                "const f = document.querySelector('{form}');
                 f.querySelector('[name=grade]').value = '2';
                 f.querySelector('[name=outcome]').value = 'ongoing';"
            ),
            json!([]),
        )
        .await;
        b.click("[data-testid=complication-form-submit]").await;
        b.until(
            "the form to close once recorded",
            "return !document.querySelector('[data-testid=complication-form]') && !!document.querySelector('[data-testid=work-card]')",
        )
        .await;
        b.click("[data-testid=note-read]").await;
        b.until(
            "the note to leave the worklist",
            "return document.querySelectorAll('[data-testid=work-card]').length === 1",
        )
        .await;
        b.resize_to(390, 844).await;
        assert_fits_a_phone(&b, "the worklist").await;
        if let Some(dir) = &shots {
            b.screenshot(&format!("{dir}/worklist-phone.png")).await;
        }
        b.assert_accessible(axe_source().as_deref(), "the worklist")
            .await;

        // What the clinician did is stored.
        let stored = app.get("/v1/worklist", &clinician).await;
        assert_eq!(stored.ok(200)["cards"][0]["assignee"]["name"], "Dr. Kim");
        let path = format!("/v1/treatments/{}/adverse-events", treatments[1].0);
        let recorded = app.get(&path, &clinician).await;
        let recorded = recorded.ok(200)["items"][0].clone();
        assert_eq!(
            (&recorded["term"], &recorded["grade"]),
            (&json!("Skin infection"), &json!(2))
        );
    })
    .await;
}
