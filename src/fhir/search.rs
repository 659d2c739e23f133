//! FHIR search parameters: what a search URL asks for, parsed into plain values (a patient, a
//! half-open window of last-updated times, a page), or the parameter that is wrong.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::db::fhir::Cursor;

/// How many resources a search page holds by default, and at most.
pub const DEFAULT_COUNT: i64 = 50;
pub const MAX_COUNT: i64 = 200;

/// A search, as the query string asks for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// `patient` (`Patient/{id}` or the bare id), or `_id` on Patient.
    pub patient: Option<Uuid>,
    /// `_lastUpdated`: only resources last updated in `[from, to)`.
    pub window: Window,
    pub count: i64,
    /// `_cursor`: the page starts after this resource (the `next` links say where).
    pub after: Option<Cursor>,
    /// `_offset`: the page skips this many (after the cursor, if any).
    pub offset: i64,
}

/// A half-open window of times; `None` leaves a side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// Narrows the window by one `_lastUpdated` value: `gt`, `ge`, `lt` or `le` and an instant
    /// (RFC 3339) or a date (the whole day, in UTC). PostgreSQL keeps microseconds, so "after t" is
    /// "from t plus one microsecond".
    pub fn narrow(&mut self, value: &str) -> Result<(), String> {
        // `get`, not `split_at`: a value may begin with a character of several bytes.
        let (prefix, time) = match (value.get(..2), value.get(2..)) {
            (Some(prefix), Some(time)) => (prefix, time),
            _ => ("", value),
        };
        let (start, end) = period(time).ok_or_else(|| {
            format!(
                "_lastUpdated: '{time}' is not a date (YYYY-MM-DD) or an instant with its offset"
            )
        })?;
        let tick = Duration::microseconds(1);
        match prefix {
            "gt" => self.from = later(self.from, end.unwrap_or(start + tick)),
            "ge" => self.from = later(self.from, start),
            "lt" => self.to = earlier(self.to, start),
            "le" => self.to = earlier(self.to, end.unwrap_or(start + tick)),
            _ => {
                return Err(format!(
                    "_lastUpdated: '{value}' needs a prefix: gt, ge, lt or le"
                ));
            }
        }
        Ok(())
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// The start of a time given, and for a date, the start of the next day.
fn period(text: &str) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some((t.with_timezone(&Utc), None));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let start = day.and_hms_opt(0, 0, 0)?.and_utc();
    Some((start, Some(start + Duration::days(1))))
}

fn later(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.max(b)))
}

fn earlier(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// A patient reference as a search names it: `Patient/{id}` or the bare id.
pub fn patient_reference(value: &str) -> Option<Uuid> {
    value.strip_prefix("Patient/").unwrap_or(value).parse().ok()
}

/// Parses a search's query pairs; `by_id` when the resource searched is Patient itself, whose
/// `_id` names the patient (other types take `patient`). Parameters the server does not know are
/// ignored, as FHIR's lenient handling asks (the `self` link shows which were used); wrong values
/// of known ones are errors.
pub fn parse(pairs: &[(String, String)], by_id: bool) -> Result<Search, String> {
    let mut search = Search {
        count: DEFAULT_COUNT,
        ..Search::default()
    };
    let patient_param = if by_id { "_id" } else { "patient" };
    for (name, value) in pairs {
        match name.as_str() {
            n if n == patient_param => {
                let id = patient_reference(value)
                    .ok_or_else(|| format!("{name}: '{value}' is not a patient id"))?;
                search.patient = Some(id);
            }
            "_lastUpdated" => search.window.narrow(value)?,
            "_count" => {
                search.count = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| format!("_count must be from 1 to {MAX_COUNT}"))?;
            }
            "_cursor" => {
                let cursor = Cursor::from_token(value)
                    .ok_or("_cursor: not a cursor this server gave out")?;
                search.after = Some(cursor);
            }
            "_offset" => {
                search.offset = value
                    .parse()
                    .ok()
                    .filter(|n: &i64| (0..=10_000_000).contains(n))
                    .ok_or("_offset must be from 0 to 10000000")?;
            }
            _ => {}
        }
    }
    Ok(search)
}

/// The query string of a search as the server understood it, for the Bundle's links.
pub fn query_string(search: &Search, by_id: bool) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    match search.patient {
        Some(p) if by_id => q.append_pair("_id", &p.to_string()),
        Some(p) => q.append_pair("patient", &format!("Patient/{p}")),
        None => &mut q,
    };
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    if let Some(from) = search.window.from {
        q.append_pair("_lastUpdated", &format!("ge{}", fmt(from)));
    }
    if let Some(to) = search.window.to {
        q.append_pair("_lastUpdated", &format!("lt{}", fmt(to)));
    }
    q.append_pair("_count", &search.count.to_string());
    if let Some(after) = &search.after {
        q.append_pair("_cursor", &after.token());
    }
    if search.offset > 0 {
        q.append_pair("_offset", &search.offset.to_string());
    }
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
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
    fn a_date_means_its_whole_day() {
        let mut w = Window::default();
        w.narrow("gt2026-11-20").unwrap();
        assert!(!w.contains(at("2026-11-20T23:59:59Z")));
        assert!(w.contains(at("2026-11-21T00:00:00Z")));
        let mut w = Window::default();
        w.narrow("le2026-11-20").unwrap();
        assert!(w.contains(at("2026-11-20T23:59:59Z")));
        assert!(!w.contains(at("2026-11-21T00:00:00Z")));
    }

    #[test]
    fn two_bounds_make_a_range_and_the_narrower_bound_wins() {
        let search = parse(
            &pairs(&[
                ("_lastUpdated", "ge2026-11-01"),
                ("_lastUpdated", "ge2026-11-10"),
                ("_lastUpdated", "lt2026-11-20"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(search.window.from, Some(at("2026-11-10T00:00:00Z")));
        assert_eq!(search.window.to, Some(at("2026-11-20T00:00:00Z")));
    }

    #[test]
    fn wrong_values_are_refused_and_unknown_parameters_ignored() {
        assert!(parse(&pairs(&[("_lastUpdated", "2026-11-20")]), false).is_err());
        assert!(parse(&pairs(&[("_lastUpdated", "eq2026-11-20")]), false).is_err());
        assert!(parse(&pairs(&[("_lastUpdated", "gtyesterday")]), false).is_err());
        assert!(parse(&pairs(&[("_lastUpdated", "gt2026-11-20T10:00:00")]), false).is_err());
        assert!(parse(&pairs(&[("patient", "Patient/42")]), false).is_err());
        assert!(parse(&pairs(&[("_count", "0")]), false).is_err());
        assert!(parse(&pairs(&[("_count", "201")]), false).is_err());
        assert!(parse(&pairs(&[("_offset", "-1")]), false).is_err());
        assert!(parse(&pairs(&[("_lastUpdated", "é2026")]), false).is_err());
        assert_eq!(
            parse(&pairs(&[("_count", "200"), ("_elements", "id")]), false)
                .unwrap()
                .count,
            200
        );
    }

    #[test]
    fn a_patient_is_named_with_or_without_its_type() {
        let id = Uuid::new_v4();
        let a = parse(&pairs(&[("patient", &format!("Patient/{id}"))]), false).unwrap();
        let b = parse(&pairs(&[("_id", &id.to_string())]), true).unwrap();
        assert_eq!(a.patient, Some(id));
        assert_eq!(b.patient, Some(id));
        // `_id` names a patient only when searching patients.
        let c = parse(&pairs(&[("_id", &id.to_string())]), false).unwrap();
        assert_eq!(c.patient, None);
    }

    #[test]
    fn the_query_string_round_trips() {
        let search = parse(
            &pairs(&[
                ("patient", &Uuid::nil().to_string()),
                ("_lastUpdated", "gt2026-11-20T10:00:00Z"),
                ("_count", "10"),
                ("_offset", "10"),
            ]),
            false,
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
            let q = query_string(&search, false);
            let back: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(parse(&back, false).unwrap(), search, "{q}");
        }
    }

    #[test]
    fn only_a_cursor_the_server_gave_out_is_taken() {
        let token = Cursor::new(at("2026-11-20T10:00:00Z"), Uuid::nil()).token();
        assert!(parse(&pairs(&[("_cursor", &token)]), false).is_ok());
        for forged in ["x", "MTIz", "", &token[1..]] {
            assert!(
                parse(&pairs(&[("_cursor", forged)]), false).is_err(),
                "{forged}"
            );
        }
        // A code that is no symptom's (a NUL, which PostgreSQL can't hold, say) is refused.
        let encode = crate::db::cursor_token;
        let id = Uuid::nil();
        assert!(
            parse(
                &pairs(&[("_cursor", &encode(&format!("0.{id}.redness")))]),
                false
            )
            .is_ok()
        );
        assert!(
            parse(
                &pairs(&[("_cursor", &encode(&format!("0.{id}.red\0")))]),
                false
            )
            .is_err()
        );
    }
}
