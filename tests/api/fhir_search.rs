//! FHIR search answers what was asked (issue 24, point 4): each supported parameter finds exactly
//! the matching resources of the caller's clinic, a record number that matches nothing is an empty
//! Bundle, a parameter the server does not support is a 400 OperationOutcome (ignored, and left out
//! of the `self` link, under `Prefer: handling=lenient`), a malformed date a 400, and the
//! CapabilityStatement declares exactly what is supported.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::fhir::assert_valid;
use crate::helpers::*;

/// Two patients of clinic A with check-ins on two days, a treatment each (and a second, earlier,
/// one for the second patient), a complication each on different days and an outcome each (rated
/// by the clinician and by the patient); a patient of clinic B with the first one's record number,
/// a check-in, a complication and an outcome.
struct Seeded {
    a: Scenario,
    b: Scenario,
    /// (patient index, check-in) of clinic A.
    check_ins: Vec<(usize, CheckIn)>,
    /// (patient index, treatment id, performed at) of clinic A.
    treatments: Vec<(usize, String, DateTime<Utc>)>,
    /// (patient index, complication id, onset) of clinic A.
    events: Vec<(usize, String, NaiveDate)>,
    today: NaiveDate,
}

async fn seed(app: &TestApp) -> Seeded {
    let a = app.scenario("Lumen").await;
    let b = app.scenario("Other").await;
    let today = Utc::now().date_naive();
    let mut check_ins = vec![];
    let scores = [
        json!({"redness": 2, "pain": 1}),
        json!({"itching": 1, "pain": 0}),
    ];
    for (n, p) in a.patients.iter().enumerate() {
        for day in 0..2 {
            let at = a.performed_at + Duration::days(day) + Duration::hours(2 + n as i64);
            let c = CheckIn::new(&p.treatment, at, scores[n].clone());
            app.check_in(&p.token, &c).await.ok(201);
            check_ins.push((n, c));
        }
    }
    let bp = &b.patients[0];
    let c = CheckIn::new(
        &bp.treatment,
        b.performed_at + Duration::hours(3),
        scores[0].clone(),
    );
    app.check_in(&bp.token, &c).await.ok(201);

    let mut treatments: Vec<(usize, String, DateTime<Utc>)> = a
        .patients
        .iter()
        .enumerate()
        .map(|(n, p)| (n, p.treatment.clone(), a.performed_at))
        .collect();
    let earlier = Utc::now() - Duration::days(40);
    let p1 = &a.patients[1];
    let t = app
        .treatment(&a.clinician, &p1.id, &a.protocol, earlier)
        .await;
    treatments.push((1, t, earlier));

    let mut events = vec![];
    for (n, onset) in [(0, today - Duration::days(1)), (1, today)] {
        let p = &a.patients[n];
        let e = app
            .post(
                &format!("/v1/treatments/{}/adverse-events", p.treatment),
                &a.clinician,
                json!({"term": "erythema", "grade": 1, "serious": false,
                       "onset_date": onset, "outcome": "recovering"}),
            )
            .await;
        events.push((n, id_of(e.ok(201)), onset));
    }
    app.post(
        &format!("/v1/treatments/{}/adverse-events", bp.treatment),
        &b.clinician,
        json!({"term": "erythema", "grade": 1, "serious": false,
               "onset_date": today, "outcome": "recovering"}),
    )
    .await
    .ok(201);

    // Patient 0's outcome rated by the clinician (an exam), patient 1's by the patient (a survey).
    app.post(
        &format!("/v1/treatments/{}/outcomes", a.patients[0].treatment),
        &a.clinician,
        json!({"assessed_on": today, "gais": 2, "satisfaction": 8}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/treatments/{}/outcomes", p1.treatment),
        &p1.token,
        json!({"assessed_on": today, "gais": 3, "satisfaction": 9}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/treatments/{}/outcomes", bp.treatment),
        &b.clinician,
        json!({"assessed_on": today, "gais": 1, "satisfaction": 5}),
    )
    .await
    .ok(201);
    Seeded {
        a,
        b,
        check_ins,
        treatments,
        events,
        today,
    }
}

/// Every resource a search finds, following its `next` links (two at a time, so that the links
/// are followed), checking on the way that each link repeats the search.
async fn search(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let sep = if query.contains('?') { '&' } else { '?' };
    let mut url = format!("/fhir/R4/{query}{sep}_count=2");
    let mut all = vec![];
    loop {
        let r = app.get(&url, token).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let bundle = r.body;
        all.extend(
            bundle["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["resource"].clone()),
        );
        let link = |rel: &str| {
            bundle["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == rel)
                .map(|l| l["url"].as_str().unwrap().replace(&app.base, ""))
        };
        // The parameters asked for are in the links, as given.
        let asked = params(query);
        for l in [link("self"), link("next")].into_iter().flatten() {
            let given = params(&l);
            for p in &asked {
                assert!(given.contains(p), "{l} lacks {p:?} of {query}");
            }
        }
        match link("next") {
            Some(next) => url = next,
            None => return all,
        }
    }
}

/// The query pairs of a URL, decoded.
fn params(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn ids(found: &[Value]) -> BTreeSet<String> {
    found
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn set<I: IntoIterator<Item = S>, S: ToString>(items: I) -> BTreeSet<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

/// An instant in a URL's query (its `+` escaped).
fn q(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// (patient, code) of each Observation, counted.
fn observed(found: &[Value]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for o in found {
        let patient = o["subject"]["reference"].as_str().unwrap().to_string();
        let code = o["code"]["coding"][0]["code"].as_str().unwrap().to_string();
        *out.entry((patient, code)).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn patients_are_found_by_record_number_and_id_in_the_callers_clinic_only() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let (a, b) = (&s.a, &s.b);
    let system = format!("urn:aftercare:clinic:{}:record-number", a.clinic.id);
    let p0 = &a.patients[0].id;

    let by_value = search(&app, &a.clinician, "Patient?identifier=MRN-0").await;
    assert_eq!(ids(&by_value), set([p0]));
    let with_system = format!(
        "Patient?identifier={}",
        urlencode(&format!("{system}|MRN-0"))
    );
    assert_eq!(
        ids(&search(&app, &a.clinician, &with_system).await),
        set([p0])
    );
    // Clinic B has a patient MRN-0 too: B's search finds B's, and A's system names none of B's.
    let theirs = search(&app, &b.clinician, "Patient?identifier=MRN-0").await;
    assert_eq!(ids(&theirs), set([&b.patients[0].id]));
    assert!(search(&app, &b.clinician, &with_system).await.is_empty());
    // Another system, no system (`|value`), and a value no one has: nothing.
    for none in [
        "Patient?identifier=urn:other|MRN-0",
        "Patient?identifier=%7CMRN-0",
        "Patient?identifier=MRN-",
    ] {
        assert!(search(&app, &a.clinician, none).await.is_empty(), "{none}");
    }
    // Alternatives, and the system alone (every record number of it).
    let either = search(&app, &a.clinician, "Patient?identifier=MRN-0,MRN-1").await;
    assert_eq!(ids(&either), set(a.patients.iter().map(|p| &p.id)));
    let all = format!("Patient?identifier={}", urlencode(&format!("{system}|")));
    assert_eq!(ids(&search(&app, &a.clinician, &all).await).len(), 2);

    // An empty Bundle, whose total says so.
    let empty = app
        .get("/fhir/R4/Patient?identifier=NO-SUCH", &a.clinician)
        .await;
    let empty = empty.ok(200);
    assert_eq!(empty["type"], "searchset");
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["entry"].as_array().unwrap().len(), 0);

    let by_id = search(&app, &a.clinic.admin, &format!("Patient?_id={p0}")).await;
    assert_eq!(ids(&by_id), set([p0]));
    // Another clinic's patient is not found by id either.
    let foreign = search(&app, &b.clinic.admin, &format!("Patient?_id={p0}")).await;
    assert!(foreign.is_empty());
    // Both parameters must hold.
    let both = format!("Patient?_id={p0}&identifier=MRN-1");
    assert!(search(&app, &a.clinician, &both).await.is_empty());
    assert_valid(&app, &a.clinician, std::slice::from_ref(empty)).await;
}

#[tokio::test]
async fn observations_are_found_by_patient_code_category_and_date() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let a = &s.a;
    let t = &a.clinician;
    let (p0, p1) = (&a.patients[0].id, &a.patients[1].id);
    let r0 = format!("Patient/{p0}");
    let r1 = format!("Patient/{p1}");
    let count = |pairs: &[(&String, &str, usize)]| -> BTreeMap<(String, String), usize> {
        pairs
            .iter()
            .map(|(p, c, n)| (((*p).clone(), c.to_string()), *n))
            .collect()
    };

    // Patient 0: two check-ins of redness and pain, and an outcome's GAIS and satisfaction.
    let mine = count(&[
        (&r0, "redness", 2),
        (&r0, "pain", 2),
        (&r0, "gais", 1),
        (&r0, "satisfaction", 1),
    ]);
    for query in [
        format!("Observation?patient={p0}"),
        format!("Observation?patient=Patient/{p0}"),
        format!("Observation?subject=Patient/{p0}"),
        format!("Observation?subject={p0}"),
    ] {
        assert_eq!(observed(&search(&app, t, &query).await), mine, "{query}");
    }
    // Clinic B's clinician finds none of them.
    let foreign = search(&app, &s.b.clinician, &format!("Observation?patient={p0}")).await;
    assert!(foreign.is_empty());

    // Codes: alone, with Aftercare's system, an outcome's.
    let redness = count(&[(&r0, "redness", 2)]);
    for code in [
        "redness",
        "https://aftercare.dev/fhir/CodeSystem/symptom|redness",
    ] {
        let query = format!("Observation?code={}", urlencode(code));
        assert_eq!(observed(&search(&app, t, &query).await), redness, "{code}");
    }
    let pain_or_itching = search(&app, t, "Observation?code=pain,itching").await;
    assert_eq!(
        observed(&pain_or_itching),
        count(&[(&r0, "pain", 2), (&r1, "pain", 2), (&r1, "itching", 2)])
    );
    let gais = search(
        &app,
        t,
        "Observation?code=https://aftercare.dev/fhir/CodeSystem/outcome%7Cgais",
    )
    .await;
    assert_eq!(
        observed(&gais),
        count(&[(&r0, "gais", 1), (&r1, "gais", 1)])
    );
    let wrong_system = "Observation?code=http://snomed.info/sct%7Credness";
    assert!(search(&app, t, wrong_system).await.is_empty());
    // Patient and code together.
    let query = format!("Observation?patient={p1}&code=pain");
    assert_eq!(
        observed(&search(&app, t, &query).await),
        count(&[(&r1, "pain", 2)])
    );

    // Categories: a clinician's rating is an exam; the patient's answers and ratings are surveys.
    let exam = search(&app, t, "Observation?category=exam").await;
    let exams = count(&[(&r0, "gais", 1), (&r0, "satisfaction", 1)]);
    assert_eq!(observed(&exam), exams);
    let category = "http://terminology.hl7.org/CodeSystem/observation-category%7Csurvey";
    let survey = search(
        &app,
        t,
        &format!("Observation?category={category}&patient={p1}"),
    )
    .await;
    assert_eq!(
        observed(&survey),
        count(&[
            (&r1, "itching", 2),
            (&r1, "pain", 2),
            (&r1, "gais", 1),
            (&r1, "satisfaction", 1)
        ])
    );

    // Dates: each check-in's effective instant, each outcome's day (UTC days).
    let first = &s.check_ins[0].1;
    let day = first.recorded_at.date_naive();
    let on_day = |d: NaiveDate| -> BTreeSet<String> {
        s.check_ins
            .iter()
            .filter(|(n, c)| *n == 0 && c.recorded_at.date_naive() == d)
            .map(|(_, c)| c.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true))
            .collect()
    };
    let effective = |found: &[Value]| -> BTreeSet<String> {
        found
            .iter()
            .filter(|o| o["derivedFrom"].is_array())
            .map(|o| o["effectiveDateTime"].as_str().unwrap().to_string())
            .collect()
    };
    let query = format!("Observation?patient={p0}&code=redness&date={day}");
    assert_eq!(effective(&search(&app, t, &query).await), on_day(day));
    let query = format!(
        "Observation?patient={p0}&code=redness&date=eq{}",
        urlencode(&q(first.recorded_at))
    );
    let exact = search(&app, t, &query).await;
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0]["effectiveDateTime"], q(first.recorded_at));
    // gt an instant leaves it out; ge takes it; lt and le the other way round.
    let at = urlencode(&q(first.recorded_at));
    let query = format!("Observation?patient={p0}&code=redness&date=gt{at}");
    assert_eq!(search(&app, t, &query).await.len(), 1);
    let query = format!("Observation?patient={p0}&code=redness&date=ge{at}");
    assert_eq!(search(&app, t, &query).await.len(), 2);
    let query = format!("Observation?patient={p0}&code=redness&date=lt{at}");
    assert_eq!(search(&app, t, &query).await.len(), 0);
    let query = format!("Observation?patient={p0}&code=redness&date=le{at}");
    assert_eq!(search(&app, t, &query).await.len(), 1);
    // A range of two bounds; the outcome assessed today is in it, the check-ins before are not.
    let today = s.today;
    let query = format!("Observation?patient={p0}&date=ge{today}&date=le{today}");
    let todays = search(&app, t, &query).await;
    let expected_scores: usize = s
        .check_ins
        .iter()
        .filter(|(n, c)| *n == 0 && c.recorded_at.date_naive() == today)
        .count()
        * 2;
    assert_eq!(todays.len(), expected_scores + 2, "{todays:?}");
    assert!(
        todays
            .iter()
            .any(|o| o["code"]["coding"][0]["code"] == "gais")
    );
    // A year and a month hold everything of theirs.
    let year = first.recorded_at.format("%Y");
    let query = format!("Observation?patient={p0}&date=lt{year}");
    assert!(search(&app, t, &query).await.is_empty());
    let month = first.recorded_at.format("%Y-%m");
    let query = format!("Observation?patient={p0}&code=redness&date=ge{month}");
    assert_eq!(search(&app, t, &query).await.len(), 2);
}

#[tokio::test]
async fn responses_procedures_and_complications_are_found_by_patient_and_date() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let a = &s.a;
    let t = &a.clinician;
    let (p0, p1) = (&a.patients[0].id, &a.patients[1].id);

    // QuestionnaireResponse: patient and authored (the check-in's recorded time).
    let responses = |f: &dyn Fn(usize, &CheckIn) -> bool| -> BTreeSet<String> {
        s.check_ins
            .iter()
            .filter(|(n, c)| f(*n, c))
            .map(|(_, c)| c.id.to_string())
            .collect()
    };
    let found = search(&app, t, &format!("QuestionnaireResponse?patient={p1}")).await;
    assert_eq!(ids(&found), responses(&|n, _| n == 1));
    let first = s.check_ins[0].1.recorded_at;
    let day = first.date_naive();
    let found = search(&app, t, &format!("QuestionnaireResponse?authored={day}")).await;
    assert_eq!(
        ids(&found),
        responses(&|_, c| c.recorded_at.date_naive() == day)
    );
    let query = format!("QuestionnaireResponse?authored=gt{}", urlencode(&q(first)));
    let found = search(&app, t, &query).await;
    assert_eq!(ids(&found), responses(&|_, c| c.recorded_at > first));
    let query = format!(
        "QuestionnaireResponse?patient=Patient/{p0}&authored=lt{}",
        urlencode(&q(first))
    );
    assert!(search(&app, t, &query).await.is_empty());
    // Another clinic's searches find none of A's; A's none of B's.
    let foreign = search(
        &app,
        &s.b.clinician,
        &format!("QuestionnaireResponse?patient={p0}"),
    )
    .await;
    assert!(foreign.is_empty());
    let all = search(&app, t, "QuestionnaireResponse").await;
    assert_eq!(ids(&all), responses(&|_, _| true));

    // Procedure: patient and date (performed).
    let procedures = |f: &dyn Fn(usize, DateTime<Utc>) -> bool| -> BTreeSet<String> {
        s.treatments
            .iter()
            .filter(|(n, _, at)| f(*n, *at))
            .map(|(_, id, _)| id.clone())
            .collect()
    };
    let found = search(&app, t, &format!("Procedure?patient={p1}")).await;
    assert_eq!(ids(&found), procedures(&|n, _| n == 1));
    assert_eq!(found.len(), 2);
    let cut = (Utc::now() - Duration::days(20)).date_naive();
    let found = search(&app, t, &format!("Procedure?date=lt{cut}")).await;
    assert_eq!(ids(&found), procedures(&|_, at| at.date_naive() < cut));
    assert_eq!(found.len(), 1);
    let query = format!("Procedure?subject=Patient/{p1}&date=ge{cut}");
    let found = search(&app, t, &query).await;
    assert_eq!(ids(&found), set([&a.patients[1].treatment]));
    let performed = a.performed_at.date_naive();
    let found = search(&app, t, &format!("Procedure?date={performed}")).await;
    assert_eq!(
        ids(&found),
        procedures(&|_, at| at.date_naive() == performed)
    );

    // AdverseEvent: subject and date (onset, a day).
    let events = |f: &dyn Fn(usize, NaiveDate) -> bool| -> BTreeSet<String> {
        s.events
            .iter()
            .filter(|(n, _, on)| f(*n, *on))
            .map(|(_, id, _)| id.clone())
            .collect()
    };
    let found = search(&app, t, &format!("AdverseEvent?subject={p0}")).await;
    assert_eq!(ids(&found), events(&|n, _| n == 0));
    let today = s.today;
    let yesterday = today - Duration::days(1);
    for (query, want) in [
        (
            format!("AdverseEvent?date={today}"),
            events(&|_, on| on == today),
        ),
        (
            format!("AdverseEvent?date=eq{yesterday}"),
            events(&|_, on| on == yesterday),
        ),
        (
            format!("AdverseEvent?date=gt{yesterday}"),
            events(&|_, on| on > yesterday),
        ),
        (
            format!("AdverseEvent?date=ge{yesterday}"),
            events(&|_, _| true),
        ),
        (
            format!("AdverseEvent?date=lt{today}"),
            events(&|_, on| on < today),
        ),
        (
            format!("AdverseEvent?date=le{yesterday}"),
            events(&|_, on| on <= yesterday),
        ),
        (
            format!("AdverseEvent?date=sa{yesterday}"),
            events(&|_, on| on > yesterday),
        ),
        (
            format!("AdverseEvent?date=eb{today}"),
            events(&|_, on| on < today),
        ),
        (
            format!("AdverseEvent?subject=Patient/{p1}&date=lt{today}"),
            BTreeSet::new(),
        ),
        (
            // An instant within a day overlaps it: the day is after "gt" the instant.
            format!(
                "AdverseEvent?date=gt{}",
                urlencode(&format!("{today}T12:00:00Z"))
            ),
            events(&|_, on| on == today),
        ),
    ] {
        assert_eq!(ids(&search(&app, t, &query).await), want, "{query}");
    }
    // _lastUpdated, on every type: nothing was updated after now.
    let now = urlencode(&q(Utc::now()));
    for kind in [
        "Patient",
        "Observation",
        "QuestionnaireResponse",
        "Procedure",
        "AdverseEvent",
    ] {
        let query = format!("{kind}?_lastUpdated=gt{now}");
        assert!(search(&app, t, &query).await.is_empty(), "{kind}");
    }
}

#[tokio::test]
async fn unsupported_parameters_are_refused_unless_lenient_and_bad_dates_are_400() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let t = &s.a.clinician;
    let p0 = &s.a.patients[0].id;
    let mut outcomes = vec![];
    for query in [
        "Patient?name=Ada",
        "Patient?identifier:exact=MRN-0",
        "Observation?_id=x",
        "Observation?_sort=date",
        "Observation?_elements=id",
        "AdverseEvent?patient=Patient/x",
        "Procedure?code=x",
        "Group?patient=x",
        "QuestionnaireResponse?date=2026-11-20",
    ] {
        let r = app.get(&format!("/fhir/R4/{query}"), t).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/fhir+json"));
        assert_eq!(r.body["resourceType"], "OperationOutcome", "{query}");
        assert_eq!(r.body["issue"][0]["code"], "invalid");
        outcomes.push(r.body);
    }
    // Lenient: the unsupported parameter is ignored, and not in the self link; the supported one
    // still holds, and is.
    let lenient = app
        .client
        .get(format!(
            "{}/fhir/R4/Patient?name=Ada&identifier=MRN-0&_sort=-date",
            app.base
        ))
        .bearer_auth(t)
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    let lenient = into_resp(lenient).await;
    let bundle = lenient.ok(200);
    assert_eq!(ids(&entries(bundle)), set([p0]));
    let self_link = bundle["link"][0]["url"].as_str().unwrap();
    assert_eq!(bundle["link"][0]["relation"], "self");
    let given = params(self_link);
    assert!(
        given.contains(&("identifier".into(), "MRN-0".into())),
        "{self_link}"
    );
    assert!(
        given.iter().all(|(n, _)| n != "name" && n != "_sort"),
        "{self_link}"
    );
    // Strict, said outright, is the default.
    let strict = app
        .client
        .get(format!("{}/fhir/R4/Patient?name=Ada", app.base))
        .bearer_auth(t)
        .header("Prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status().as_u16(), 400);

    // A malformed value of a supported parameter is a 400, lenient or not; never a 5xx.
    for query in [
        "Observation?date=2026-13-01",
        "Observation?date=gt2026-02-30",
        "Observation?date=yesterday",
        "Observation?date=ne2026-11-20",
        "Observation?date=2026-11-20T10:00:00",
        "Observation?date=99999-01-01",
        "Observation?date=gt",
        "Procedure?date=",
        "AdverseEvent?date=%C3%A92026",
        "QuestionnaireResponse?authored=2026-1-1",
        "Patient?_lastUpdated=2026-11-20T25:00:00Z",
        "Observation?patient=Patient/42",
        "Observation?code=",
        "Observation?code=a%7Cb%7Cc",
        "Patient?_count=0",
    ] {
        for prefer in ["handling=strict", "handling=lenient"] {
            let r = app
                .client
                .get(format!("{}/fhir/R4/{query}", app.base))
                .bearer_auth(t)
                .header("Prefer", prefer)
                .send()
                .await
                .unwrap();
            let r = into_resp(r).await;
            assert_eq!(r.status, 400, "{query} ({prefer}): {}", r.body);
            assert_eq!(r.body["resourceType"], "OperationOutcome");
        }
    }
    // Extreme but well-formed dates are answered, not failed.
    for query in [
        "Observation?date=gt0001-01-01",
        "Observation?date=lt9999-12-31",
        "AdverseEvent?date=ge9999",
        "Procedure?date=le0001",
        "QuestionnaireResponse?authored=eb0001-01",
    ] {
        let r = app.get(&format!("/fhir/R4/{query}"), t).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
    }
    assert_valid(&app, t, &outcomes).await;
}

#[tokio::test]
async fn the_capability_statement_declares_exactly_the_supported_parameters() {
    let app = spawn_app().await;
    let r = app
        .request(reqwest::Method::GET, "/fhir/R4/metadata", None, None)
        .await;
    let statement = r.ok(200);
    let declared: BTreeMap<String, BTreeSet<String>> = statement["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            // Binary is read only (a photo's bytes): no search, no parameters.
            let names = r["searchParam"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            (r["type"].as_str().unwrap().to_string(), names)
        })
        .collect();
    let want: BTreeMap<String, BTreeSet<String>> = [
        (
            "Patient",
            &["_id", "identifier", "_lastUpdated", "_count"][..],
        ),
        (
            "Observation",
            &[
                "patient",
                "subject",
                "code",
                "category",
                "date",
                "_lastUpdated",
                "_count",
            ],
        ),
        (
            "QuestionnaireResponse",
            &["patient", "subject", "authored", "_lastUpdated", "_count"],
        ),
        (
            "Procedure",
            &["patient", "subject", "date", "_lastUpdated", "_count"],
        ),
        (
            "AdverseEvent",
            &["subject", "date", "_lastUpdated", "_count"],
        ),
        (
            "Questionnaire",
            &["url", "version", "_lastUpdated", "_count"],
        ),
        ("Group", &["_lastUpdated", "_count"]),
        (
            "Media",
            &["patient", "subject", "created", "_lastUpdated", "_count"],
        ),
        ("Binary", &[]),
        ("CodeSystem", &["url"]),
        ("ValueSet", &["url"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), set(v.iter())))
    .collect();
    assert_eq!(declared, want);

    // Every declared parameter is taken (no 400) by the search of its type, and an undeclared
    // one is refused: the statement and the searches agree.
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0].id;
    let value = |name: &str| match name {
        "_id" | "patient" | "subject" => p.clone(),
        "identifier" => "MRN-0".to_string(),
        "code" => "redness".to_string(),
        "category" => "survey".to_string(),
        "_count" => "5".to_string(),
        _ => "ge2026-01-01".to_string(),
    };
    for (kind, names) in &declared {
        for name in names {
            let r = app
                .get(
                    &format!("/fhir/R4/{kind}?{name}={}", value(name)),
                    &s.clinician,
                )
                .await;
            assert_eq!(r.status, 200, "{kind}?{name}: {}", r.body);
        }
        for name in ["patient", "identifier", "code", "date", "_id", "authored"] {
            if !names.contains(name) && kind != "Binary" {
                let r = app
                    .get(
                        &format!("/fhir/R4/{kind}?{name}={}", value(name)),
                        &s.clinician,
                    )
                    .await;
                assert_eq!(r.status, 400, "{kind}?{name}");
            }
        }
    }
    assert_valid(&app, &s.clinician, std::slice::from_ref(statement)).await;
}

#[tokio::test]
async fn staff_read_fhir_patients_do_not_and_only_admins_export() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    // A patient reads their data through /v1, never FHIR; staff of either role read it.
    let r = app
        .get("/fhir/R4/Patient?identifier=MRN-0", &s.patients[0].token)
        .await;
    assert_eq!(r.status, 403);
    for token in [&s.clinician, &s.clinic.admin] {
        let found = search(&app, token, "Patient?identifier=MRN-0").await;
        assert_eq!(ids(&found), set([&s.patients[0].id]));
    }
    // Export is for admins (and system clients: tests/api/fhir_export.rs), not clinicians.
    let kick_off = app
        .client
        .get(format!("{}/fhir/R4/Patient/$export", app.base))
        .bearer_auth(&s.clinician)
        .header("Prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(kick_off.status().as_u16(), 403);
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
