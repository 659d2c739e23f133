//! The search parser's unit tests.

use chrono::{Duration, NaiveDate};

use super::dates::DateValue;
use super::*;
use crate::fhir::codes;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn strict(kind: Kind, list: &[(&str, &str)]) -> Result<Search, String> {
    parse(kind, Uuid::nil(), &pairs(list), Handling::Strict)
}

#[test]
fn gt_an_instant_excludes_that_instant_and_ge_includes_it() {
    let t = at("2026-11-20T10:00:00Z");
    let mut gt = Window::default();
    gt.narrow("gt2026-11-20T10:00:00Z").unwrap();
    assert!(!gt.contains(t));
    assert!(gt.contains(t + Duration::microseconds(1)));
    let mut ge = Window::default();
    ge.narrow("ge2026-11-20T11:00:00+01:00").unwrap();
    assert!(ge.contains(t));
    assert!(!ge.contains(t - Duration::microseconds(1)));
}

#[test]
fn a_date_means_its_whole_day_and_no_prefix_means_eq() {
    let mut w = Window::default();
    w.narrow("gt2026-11-20").unwrap();
    assert!(!w.contains(at("2026-11-20T23:59:59Z")));
    assert!(w.contains(at("2026-11-21T00:00:00Z")));
    let mut w = Window::default();
    w.narrow("le2026-11-20").unwrap();
    assert!(w.contains(at("2026-11-20T23:59:59Z")));
    assert!(!w.contains(at("2026-11-21T00:00:00Z")));
    let mut w = Window::default();
    w.narrow("2026-11").unwrap();
    assert!(w.contains(at("2026-11-30T23:59:59Z")));
    assert!(!w.contains(at("2026-12-01T00:00:00Z")));
    assert!(!w.contains(at("2026-10-31T23:59:59Z")));
}

#[test]
fn days_match_as_fhir_compares_periods() {
    let days = |v: &str| DateValue::parse(v).unwrap().days();
    let (d20, d21) = (day("2026-11-20"), day("2026-11-21"));
    assert_eq!(days("2026-11-20"), (Some(d20), Some(d21)));
    assert_eq!(days("gt2026-11-20"), (Some(d21), None));
    assert_eq!(days("ge2026-11-20"), (Some(d20), None));
    assert_eq!(days("lt2026-11-20"), (None, Some(d20)));
    assert_eq!(days("le2026-11-20"), (None, Some(d21)));
    assert_eq!(days("sa2026-11-20"), (Some(d21), None));
    assert_eq!(days("eb2026-11-20"), (None, Some(d20)));
    // An instant holds no whole day; the day around it is after "gt" it and before "lt" it.
    let (from, to) = days("eq2026-11-20T10:00:00Z");
    assert!(from >= to, "{from:?} {to:?}");
    assert_eq!(days("gt2026-11-20T10:00:00Z"), (Some(d20), None));
    assert_eq!(days("lt2026-11-20T10:00:00Z"), (None, Some(d21)));
    assert_eq!(days("sa2026-11-20T10:00:00Z"), (Some(d21), None));
    assert_eq!(days("eb2026-11-20T10:00:00Z"), (None, Some(d20)));
    assert_eq!(days("ge2026-11-20T00:00:00Z"), (Some(d20), None));
    assert_eq!(days("le2026-11-19T23:59:59Z"), (None, Some(d20)));
}

#[test]
fn two_bounds_make_a_range_and_the_narrower_bound_wins() {
    let search = strict(
        Kind::Observation,
        &[
            ("_lastUpdated", "ge2026-11-01"),
            ("_lastUpdated", "ge2026-11-10"),
            ("_lastUpdated", "lt2026-11-20"),
            ("date", "ge2026-11-01"),
            ("date", "le2026-11-05"),
        ],
    )
    .unwrap();
    assert_eq!(search.window.from, Some(at("2026-11-10T00:00:00Z")));
    assert_eq!(search.window.to, Some(at("2026-11-20T00:00:00Z")));
    assert_eq!(search.criteria.at.from, Some(at("2026-11-01T00:00:00Z")));
    assert_eq!(search.criteria.at.to, Some(at("2026-11-06T00:00:00Z")));
    assert_eq!(search.criteria.on.from, Some(day("2026-11-01")));
    assert_eq!(search.criteria.on.to, Some(day("2026-11-06")));
}

#[test]
fn wrong_values_are_refused() {
    let refused =
        |kind, p: &[(&str, &str)]| parse(kind, Uuid::nil(), &pairs(p), Handling::Lenient).is_err();
    let o = Kind::Observation;
    assert!(refused(o, &[("_lastUpdated", "ne2026-11-20")]));
    assert!(refused(o, &[("_lastUpdated", "gtyesterday")]));
    assert!(refused(o, &[("_lastUpdated", "gt2026-11-20T10:00:00")]));
    assert!(refused(o, &[("date", "2026-02-30")]));
    assert!(refused(o, &[("date", "2026-1-01")]));
    assert!(refused(o, &[("date", "é2026")]));
    assert!(refused(o, &[("patient", "Patient/42")]));
    assert!(refused(o, &[("code", "")]));
    assert!(refused(o, &[("code", "a|b|c")]));
    assert!(refused(o, &[("_count", "0")]));
    assert!(refused(o, &[("_count", "201")]));
    assert!(refused(o, &[("_offset", "-1")]));
    assert!(refused(o, &[("_cursor", "x")]));
}

#[test]
fn unsupported_parameters_are_refused_unless_lenient_and_left_out_of_the_links() {
    let p = pairs(&[("_elements", "id"), ("code", "redness"), ("_count", "200")]);
    let e = parse(Kind::Observation, Uuid::nil(), &p, Handling::Strict).unwrap_err();
    assert!(e.starts_with("_elements:"), "{e}");
    let lenient = parse(Kind::Observation, Uuid::nil(), &p, Handling::Lenient).unwrap();
    assert_eq!(lenient.count, 200);
    assert_eq!(query_string(&lenient), "code=redness&_count=200");
    // A parameter of another type is not one of this type's.
    assert!(strict(Kind::Patient, &[("patient", "x")]).is_err());
    assert!(strict(Kind::AdverseEvent, &[("patient", "x")]).is_err());
    assert!(strict(Kind::Observation, &[("_id", "x")]).is_err());
    assert_eq!(
        Handling::from_prefer(Some("return=minimal, handling=lenient")),
        Handling::Lenient
    );
    assert_eq!(
        Handling::from_prefer(Some("handling=strict")),
        Handling::Strict
    );
    assert_eq!(Handling::from_prefer(None), Handling::Strict);
}

#[test]
fn record_numbers_are_matched_in_the_clinics_system_only() {
    let clinic = Uuid::new_v4();
    let ours = codes::record_number_system(clinic);
    let numbers = |v: &str| {
        parse(
            Kind::Patient,
            clinic,
            &pairs(&[("identifier", v)]),
            Handling::Strict,
        )
        .unwrap()
        .criteria
        .record_numbers
    };
    assert_eq!(numbers("MRN-1"), Some(vec!["MRN-1".into()]));
    assert_eq!(
        numbers(&format!("{ours}|MRN-1")),
        Some(vec!["MRN-1".into()])
    );
    assert_eq!(numbers("urn:other|MRN-1"), Some(vec![]));
    assert_eq!(numbers("|MRN-1"), Some(vec![]));
    assert_eq!(numbers(&format!("{ours}|")), None);
    assert_eq!(numbers("A,B"), Some(vec!["A".into(), "B".into()]));
    assert_eq!(numbers(r"A\,B"), Some(vec!["A,B".into()]));
    assert_eq!(numbers(r"A\|B"), Some(vec!["A|B".into()]));
}

#[test]
fn codes_and_categories_name_scores_and_outcomes() {
    let criteria = |list: &[(&str, &str)]| strict(Kind::Observation, list).unwrap().criteria;
    let c = criteria(&[("code", "redness")]);
    assert_eq!(c.score_codes, Some(vec!["redness".into()]));
    assert_eq!(c.outcome_codes, Some(vec![]));
    // A default item is in our system, the clinic's own in the clinic's.
    let ours = format!("{}|redness,{}|tightness", codes::SYMPTOM, codes::SYMPTOM);
    assert_eq!(
        criteria(&[("code", &ours)]).score_codes,
        Some(vec!["redness".into()])
    );
    let clinics = format!("{}|tightness", codes::clinic_items(Uuid::nil()));
    assert_eq!(
        criteria(&[("code", &clinics)]).score_codes,
        Some(vec!["tightness".into()])
    );
    let other = format!("{}|tightness", codes::clinic_items(Uuid::new_v4()));
    assert_eq!(criteria(&[("code", &other)]).score_codes, Some(vec![]));
    let snomed = criteria(&[("code", "http://snomed.info/sct|247441003")]);
    assert_eq!(snomed.score_codes, Some(vec![]));
    let c = criteria(&[("code", &format!("{}|goodman-baron", codes::OUTCOME))]);
    assert_eq!(c.score_codes, Some(vec![]));
    assert_eq!(c.outcome_codes, Some(vec!["goodman_baron".into()]));
    let c = criteria(&[("category", "exam")]);
    assert_eq!(c.score_codes, Some(vec![]));
    assert_eq!(c.outcome_codes, None);
    assert_eq!(c.assessors, Some(vec!["clinician".into()]));
    let c = criteria(&[("category", "survey"), ("code", "gais,redness")]);
    assert_eq!(c.score_codes, Some(vec!["gais".into(), "redness".into()]));
    assert_eq!(c.outcome_codes, Some(vec!["gais".into()]));
    assert_eq!(c.assessors, Some(vec!["patient".into()]));
    // Repeated, both must hold.
    let c = criteria(&[("code", "pain,redness"), ("code", "redness,itching")]);
    assert_eq!(c.score_codes, Some(vec!["redness".into()]));
    let a = Uuid::new_v4();
    let c = criteria(&[
        ("patient", &format!("Patient/{a}")),
        ("subject", &a.to_string()),
    ]);
    assert_eq!(c.patients, Some(vec![a]));
}

#[test]
fn the_links_repeat_the_search_and_round_trip() {
    let id = Uuid::new_v4().to_string();
    let search = strict(
        Kind::Observation,
        &[
            ("patient", &id),
            ("date", "gt2026-11-20T10:00:00+01:00"),
            ("code", "a|b"),
            ("_count", "10"),
            ("_offset", "10"),
        ],
    )
    .unwrap();
    let after = Cursor {
        updated: at("2026-11-20T10:00:00.123456Z"),
        id: Uuid::new_v4(),
        code: "goodman_baron".into(),
    };
    for search in [
        search.clone(),
        Search {
            after: Some(after),
            ..search
        },
    ] {
        let q = query_string(&search);
        let back: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let again = parse(Kind::Observation, Uuid::nil(), &back, Handling::Strict).unwrap();
        assert_eq!(again, search, "{q}");
    }
}

#[test]
fn only_a_cursor_the_server_gave_out_is_taken() {
    let token = Cursor::new(at("2026-11-20T10:00:00Z"), Uuid::nil()).token();
    assert!(strict(Kind::Patient, &[("_cursor", &token)]).is_ok());
    for forged in ["x", "MTIz", "", &token[1..]] {
        assert!(
            strict(Kind::Patient, &[("_cursor", forged)]).is_err(),
            "{forged}"
        );
    }
    // A code that is no symptom's (a NUL, which PostgreSQL can't hold, say) is refused.
    let encode = crate::db::cursor_token;
    let id = Uuid::nil();
    let cursor = |code: &str| encode(&format!("0.{id}.{code}"));
    assert!(strict(Kind::Observation, &[("_cursor", &cursor("redness"))]).is_ok());
    assert!(strict(Kind::Observation, &[("_cursor", &cursor("red\0"))]).is_err());
}

#[test]
fn a_questionnaire_is_found_by_its_url_and_version() {
    let versions = |list: &[(&str, &str)]| {
        strict(Kind::Questionnaire, list)
            .unwrap()
            .criteria
            .questionnaire_versions
    };
    let url = codes::questionnaire_url(Uuid::nil());
    assert_eq!(versions(&[("url", &url)]), None);
    assert_eq!(
        versions(&[("url", &format!("{url}|2"))]),
        Some(vec!["2".into()])
    );
    assert_eq!(versions(&[("url", "http://example.org/q")]), Some(vec![]));
    assert_eq!(
        versions(&[("url", &url), ("version", "1,3")]),
        Some(vec!["1".into(), "3".into()])
    );
    assert!(strict(Kind::Questionnaire, &[("code", "x")]).is_err());
}
