//! FHIR search parameters: which ones each resource type supports (one table, which the parser
//! and the CapabilityStatement both read), and what a search URL asks for, parsed into plain
//! values (the criteria of the rows, a window of last-updated times, a page), or the parameter
//! that is wrong or not supported.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::codes;
use super::fetch::Kind;
use crate::db::fhir::{Criteria, Cursor, Span};

/// How many resources a search page holds by default, and at most.
pub const DEFAULT_COUNT: i64 = 50;
pub const MAX_COUNT: i64 = 200;

/// A search parameter this server supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Id,
    LastUpdated,
    Count,
    Identifier,
    Patient,
    Subject,
    Code,
    Category,
    Date,
    Authored,
}

impl Param {
    pub fn name(self) -> &'static str {
        match self {
            Param::Id => "_id",
            Param::LastUpdated => "_lastUpdated",
            Param::Count => "_count",
            Param::Identifier => "identifier",
            Param::Patient => "patient",
            Param::Subject => "subject",
            Param::Code => "code",
            Param::Category => "category",
            Param::Date => "date",
            Param::Authored => "authored",
        }
    }

    /// The parameter's FHIR search type.
    pub fn kind(self) -> &'static str {
        match self {
            Param::Id | Param::Identifier | Param::Code | Param::Category => "token",
            Param::LastUpdated | Param::Date | Param::Authored => "date",
            Param::Count => "number",
            Param::Patient | Param::Subject => "reference",
        }
    }

    pub fn documentation(self) -> &'static str {
        match self {
            Param::Id => "The patient's id; several separated by commas",
            Param::LastUpdated => {
                "eq, gt, ge, lt, le, sa or eb and a date (YYYY, YYYY-MM, YYYY-MM-DD: UTC days) or \
                 an instant with its offset; repeat for a range"
            }
            Param::Count => "Resources per page, 1-200 (default 50)",
            Param::Identifier => {
                "The record number: system|value, or the value alone; several separated by commas"
            }
            Param::Patient | Param::Subject => {
                "Patient/{id} or the id; several separated by commas"
            }
            Param::Code => {
                "system|code or the code alone: a symptom, an outcome, or a symptom's SNOMED CT \
                 concept"
            }
            Param::Category => "survey (the patient's answers and ratings) or exam (a clinician's)",
            Param::Date | Param::Authored => {
                "eq, gt, ge, lt, le, sa or eb and a date (YYYY, YYYY-MM, YYYY-MM-DD: UTC days) or \
                 an instant with its offset; repeat for a range"
            }
        }
    }
}

/// The search parameters of each resource type, in the CapabilityStatement's order.
pub fn supported(kind: Kind) -> &'static [Param] {
    use Param::*;
    match kind {
        Kind::Patient => &[Id, Identifier, LastUpdated, Count],
        Kind::Observation => &[Patient, Subject, Code, Category, Date, LastUpdated, Count],
        Kind::QuestionnaireResponse => &[Patient, Subject, Authored, LastUpdated, Count],
        Kind::Procedure => &[Patient, Subject, Date, LastUpdated, Count],
        Kind::AdverseEvent => &[Subject, Date, LastUpdated, Count],
        Kind::Questionnaire | Kind::Group => &[LastUpdated, Count],
    }
}

/// The server's own paging parameters, which only its `next` links carry.
const PAGING: [&str; 2] = ["_cursor", "_offset"];

/// A search, as the query string asks for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// What the rows must be.
    pub criteria: Criteria,
    /// `_lastUpdated`: only resources last updated in `[from, to)`.
    pub window: Window,
    pub count: i64,
    /// `_cursor`: the page starts after this resource (the `next` links say where).
    pub after: Option<Cursor>,
    /// `_offset`: the page skips this many (after the cursor, if any).
    pub offset: i64,
    /// The search parameters used, as given (without `_count` and paging): the links repeat them.
    pub used: Vec<(String, String)>,
}

/// A half-open window of times; `None` leaves a side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// Narrows the window by one `_lastUpdated` value (see [`DateValue`]).
    pub fn narrow(&mut self, value: &str) -> Result<(), String> {
        let v = DateValue::parse(value).map_err(|e| format!("_lastUpdated: {e}"))?;
        let (from, to) = v.instants();
        self.from = later(self.from, from);
        self.to = earlier(self.to, to);
        Ok(())
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// FHIR's date comparisons (`ne` and `ap` are not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    Sa,
    Eb,
}

/// A date search value: a prefix and the period it names, `[start, end)`: a year, a month or a
/// day (in UTC, as the resources write their instants), or an instant (RFC 3339 with its offset),
/// which names itself alone (the server keeps microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateValue {
    prefix: Prefix,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl DateValue {
    fn parse(value: &str) -> Result<DateValue, String> {
        // `get`, not `split_at`: a value may begin with a character of several bytes.
        let (prefix, time) = match value
            .get(..2)
            .filter(|p| p.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            Some(p) => (p, value.get(2..).unwrap_or_default()),
            None => ("eq", value),
        };
        let prefix = match prefix {
            "eq" => Prefix::Eq,
            "gt" => Prefix::Gt,
            "ge" => Prefix::Ge,
            "lt" => Prefix::Lt,
            "le" => Prefix::Le,
            "sa" => Prefix::Sa,
            "eb" => Prefix::Eb,
            other => {
                return Err(format!(
                    "'{other}' is not a supported prefix (eq, gt, ge, lt, le, sa, eb)"
                ));
            }
        };
        let (start, end) = period(time).ok_or_else(|| {
            format!(
                "'{time}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD) or an instant with its offset"
            )
        })?;
        Ok(DateValue { prefix, start, end })
    }

    /// The instants `t` that match, as `[from, to)`: an instant's period is itself, so "the period
    /// above the value overlaps t" is `t >= end`, and so on.
    fn instants(self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let (s, e) = (self.start, self.end);
        match self.prefix {
            Prefix::Eq => (Some(s), Some(e)),
            Prefix::Gt | Prefix::Sa => (Some(e), None),
            Prefix::Ge => (Some(s), None),
            Prefix::Lt | Prefix::Eb => (None, Some(s)),
            Prefix::Le => (None, Some(e)),
        }
    }

    /// The days `d` (in UTC, the period `[d, d + 1)`) that match, as `[from, to)`, by FHIR's rules:
    /// `eq` the value's period holds the day, `gt` the period after the value overlaps it, `ge`
    /// either, `sa` the day starts after the value, `eb` it ends before.
    fn days(self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let (s, e) = (self.start, self.end);
        let day = Duration::days(1);
        // The first day starting at or after t, and the day after the one holding t.
        let ceil = |t: DateTime<Utc>| {
            let d = t.date_naive();
            if d.and_hms_opt(0, 0, 0).is_some_and(|m| m.and_utc() == t) {
                d
            } else {
                d.succ_opt().unwrap_or(d)
            }
        };
        let after = |t: DateTime<Utc>| {
            let d = t.date_naive();
            d.succ_opt().unwrap_or(d)
        };
        match self.prefix {
            Prefix::Eq => (Some(ceil(s)), Some(after(e - day))),
            Prefix::Gt => (Some(after(e - day)), None),
            Prefix::Sa => (Some(ceil(e)), None),
            Prefix::Ge => (Some(ceil(s).min(after(e - day))), None),
            Prefix::Lt => (None, Some(ceil(s))),
            Prefix::Eb => (None, Some(after(s - day))),
            Prefix::Le => (None, Some(ceil(s).max(after(e - day)))),
        }
    }
}

/// The period a date search value names: a year, a month, a day (UTC), or an instant.
fn period(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if text.contains('T') {
        let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        return Some((t, t + Duration::microseconds(1)));
    }
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = text.split('-').collect();
    let (start, end) = match parts[..] {
        [y] if digits(y, 4) => {
            let y: i32 = y.parse().ok()?;
            (
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?,
            )
        }
        [y, m] if digits(y, 4) && digits(m, 2) => {
            let start = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
            (start, start.checked_add_months(chrono::Months::new(1))?)
        }
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            let day = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            (day, day.succ_opt()?)
        }
        _ => return None,
    };
    Some((midnight(start)?, midnight(end)?))
}

fn later<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn earlier<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A patient reference as a search names it: `Patient/{id}` or the bare id.
pub fn patient_reference(value: &str) -> Option<Uuid> {
    value.strip_prefix("Patient/").unwrap_or(value).parse().ok()
}

/// Splits a value at the separator `sep` where it is not escaped (`\,`, `\|`, `\\`), unescaping
/// the parts.
fn split_escaped(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == sep {
            parts.push(String::new());
            continue;
        }
        let Some(part) = parts.last_mut() else { break };
        if c != '\\' {
            part.push(c);
        } else if let Some(next) = chars.next() {
            if !matches!(next, '\\' | ',' | '|' | '$') {
                part.push('\\');
            }
            part.push(next);
        }
    }
    parts
}

/// A token: `system|code` (system None for the code alone, Some("") for `|code`, code "" for
/// `system|`).
#[derive(Debug, Clone, PartialEq)]
struct Token {
    system: Option<String>,
    code: String,
}

fn tokens(name: &str, value: &str) -> Result<Vec<Token>, String> {
    let mut out = vec![];
    // The alternatives are split before the system: an escaped `\|` must survive the first split.
    for alt in split_raw(value, ',') {
        let parts = split_escaped(&alt, '|');
        let token = match &parts[..] {
            [code] => Token {
                system: None,
                code: code.clone(),
            },
            [system, code] => Token {
                system: Some(system.clone()),
                code: code.clone(),
            },
            _ => {
                return Err(format!(
                    "{name}: '{alt}' is not a token (system|code or code)"
                ));
            }
        };
        if token.code.is_empty() && token.system.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{name}: an empty value"));
        }
        out.push(token);
    }
    Ok(out)
}

/// Splits at unescaped `sep`, keeping the escapes for the next split.
fn split_raw(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in value.chars() {
        if !escaped && c == sep {
            parts.push(String::new());
            continue;
        }
        escaped = !escaped && c == '\\';
        if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    parts
}

/// A set of values, or all of them.
#[derive(Debug, Clone, PartialEq)]
enum Set {
    All,
    Only(BTreeSet<String>),
}

impl Set {
    fn none() -> Set {
        Set::Only(BTreeSet::new())
    }

    fn of<const N: usize>(items: [&str; N]) -> Set {
        Set::Only(items.iter().map(|s| s.to_string()).collect())
    }

    fn union(self, other: Set) -> Set {
        match (self, other) {
            (Set::Only(mut a), Set::Only(b)) => {
                a.extend(b);
                Set::Only(a)
            }
            _ => Set::All,
        }
    }

    fn intersect(self, other: Set) -> Set {
        match (self, other) {
            (Set::All, x) | (x, Set::All) => x,
            (Set::Only(a), Set::Only(b)) => Set::Only(a.intersection(&b).cloned().collect()),
        }
    }

    fn into_list(self) -> Option<Vec<String>> {
        match self {
            Set::All => None,
            Set::Only(s) => Some(s.into_iter().collect()),
        }
    }
}

/// ANDs one more condition into an optional one.
fn and(current: Option<Set>, more: Set) -> Option<Set> {
    Some(match current {
        Some(c) => c.intersect(more),
        None => more,
    })
}

/// The outcome values, by the codes their Observations carry.
const OUTCOMES: [(&str, &str); 3] = [
    ("gais", "gais"),
    ("satisfaction", "satisfaction"),
    ("goodman-baron", "goodman_baron"),
];

/// The symptoms with a SNOMED CT concept.
const SNOMED_SYMPTOMS: [&str; 4] = ["redness", "flaking", "itching", "fever"];

/// The check-in scores and the outcome values a `code` token names.
fn code_sets(t: &Token) -> (Set, Set) {
    let symptom = || {
        if t.code.is_empty() {
            Set::All
        } else {
            Set::of([t.code.as_str()])
        }
    };
    let outcome = || {
        let matching = OUTCOMES
            .iter()
            .filter(|(code, _)| t.code.is_empty() || *code == t.code)
            .map(|(_, row)| row.to_string());
        Set::Only(matching.collect())
    };
    let snomed = || {
        let matching = SNOMED_SYMPTOMS.iter().filter(|s| {
            codes::snomed_of(s).is_some_and(|(sct, _)| t.code.is_empty() || sct == t.code)
        });
        Set::Only(matching.map(|s| s.to_string()).collect())
    };
    match t.system.as_deref() {
        None => (symptom().union(snomed()), outcome()),
        Some(codes::SYMPTOM) => (symptom(), Set::none()),
        Some(codes::SNOMED) => (snomed(), Set::none()),
        Some(codes::OUTCOME) => (Set::none(), outcome()),
        Some(_) => (Set::none(), Set::none()),
    }
}

/// The check-in scores (all or none) and the assessors of outcomes a `category` token names: the
/// patient's answers and ratings are surveys, a clinician's ratings exams.
fn category_sets(t: &Token) -> (Set, Set) {
    let ours = t
        .system
        .as_deref()
        .is_none_or(|s| s == codes::OBSERVATION_CATEGORY);
    match t.code.as_str() {
        "survey" if ours => (Set::All, Set::of(["patient"])),
        "exam" if ours => (Set::none(), Set::of(["clinician"])),
        "" if ours => (Set::All, Set::All),
        _ => (Set::none(), Set::none()),
    }
}

/// How a search treats a parameter it does not support: FHIR's `Prefer: handling=strict` (an
/// error, this server's default) or `handling=lenient` (ignored, and left out of the links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Strict,
    Lenient,
}

impl Handling {
    /// The handling a `Prefer` header asks for.
    pub fn from_prefer(prefer: Option<&str>) -> Handling {
        let lenient = prefer.is_some_and(|p| {
            p.split([',', ';'])
                .any(|v| v.trim().eq_ignore_ascii_case("handling=lenient"))
        });
        if lenient {
            Handling::Lenient
        } else {
            Handling::Strict
        }
    }
}

/// Parses a search of `kind` in the clinic `clinic` (whose record numbers `identifier` names) from
/// its query pairs. A parameter `kind` does not support is an error unless `handling` is lenient;
/// a wrong value of a supported one is always an error. Repeated parameters must all hold;
/// comma-separated values are alternatives.
pub fn parse(
    kind: Kind,
    clinic: Uuid,
    pairs: &[(String, String)],
    handling: Handling,
) -> Result<Search, String> {
    let mut search = Search {
        count: DEFAULT_COUNT,
        ..Search::default()
    };
    let mut patients: Option<BTreeSet<Uuid>> = None;
    let mut record_numbers: Option<Set> = None;
    let (mut scores, mut outcomes, mut assessors) = (None, None, None);
    let (mut at, mut on) = (Span::default(), Span::default());
    let supported = supported(kind);
    for (name, value) in pairs {
        if PAGING.contains(&name.as_str()) {
            match name.as_str() {
                "_cursor" => {
                    let cursor = Cursor::from_token(value)
                        .ok_or("_cursor: not a cursor this server gave out")?;
                    search.after = Some(cursor);
                }
                _ => {
                    search.offset = value
                        .parse()
                        .ok()
                        .filter(|n: &i64| (0..=10_000_000).contains(n))
                        .ok_or("_offset must be from 0 to 10000000")?;
                }
            }
            continue;
        }
        let Some(param) = supported.iter().find(|p| p.name() == name) else {
            if handling == Handling::Lenient {
                continue;
            }
            let names: Vec<&str> = supported.iter().map(|p| p.name()).collect();
            return Err(format!(
                "{name}: not a search parameter of {} on this server (it supports {}); send \
                 Prefer: handling=lenient to have unsupported parameters ignored",
                kind.as_str(),
                names.join(", ")
            ));
        };
        if value.is_empty() {
            return Err(format!("{name}: an empty value"));
        }
        match param {
            Param::Count => {
                search.count = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| format!("_count must be from 1 to {MAX_COUNT}"))?;
                continue;
            }
            Param::LastUpdated => search.window.narrow(value)?,
            Param::Id | Param::Patient | Param::Subject => {
                let mut ids = BTreeSet::new();
                for v in split_raw(value, ',') {
                    let id = patient_reference(&v)
                        .ok_or_else(|| format!("{name}: '{v}' is not a patient id"))?;
                    ids.insert(id);
                }
                patients = Some(match patients {
                    Some(p) => p.intersection(&ids).copied().collect(),
                    None => ids,
                });
            }
            Param::Identifier => {
                let ours = crate::fhir::codes::record_number_system(clinic);
                let mut set = Set::none();
                for t in tokens(name, value)? {
                    set = set.union(match t.system.as_deref() {
                        Some(s) if s != ours => Set::none(),
                        Some(_) if t.code.is_empty() => Set::All,
                        _ => Set::of([t.code.as_str()]),
                    });
                }
                record_numbers = and(record_numbers, set);
            }
            Param::Code => {
                let (mut s, mut o) = (Set::none(), Set::none());
                for t in tokens(name, value)? {
                    let (ts, to) = code_sets(&t);
                    s = s.union(ts);
                    o = o.union(to);
                }
                scores = and(scores, s);
                outcomes = and(outcomes, o);
            }
            Param::Category => {
                let (mut s, mut a) = (Set::none(), Set::none());
                for t in tokens(name, value)? {
                    let (ts, ta) = category_sets(&t);
                    s = s.union(ts);
                    a = a.union(ta);
                }
                scores = and(scores, s);
                assessors = and(assessors, a);
            }
            Param::Date | Param::Authored => {
                let v = DateValue::parse(value).map_err(|e| format!("{name}: {e}"))?;
                let (from, to) = v.instants();
                at.from = later(at.from, from);
                at.to = earlier(at.to, to);
                let (from, to) = v.days();
                on.from = later(on.from, from);
                on.to = earlier(on.to, to);
            }
        }
        search.used.push((name.clone(), value.clone()));
    }
    search.criteria = Criteria {
        patients: patients.map(|p| p.into_iter().collect()),
        record_numbers: record_numbers.and_then(Set::into_list),
        at,
        on,
        score_codes: scores.and_then(Set::into_list),
        outcome_codes: outcomes.and_then(Set::into_list),
        assessors: assessors.and_then(Set::into_list),
    };
    Ok(search)
}

/// The query string of a search: the parameters it used, its page size and where the page starts.
pub fn query_string(search: &Search) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &search.used {
        q.append_pair(name, value);
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
        let refused = |kind, p: &[(&str, &str)]| {
            parse(kind, Uuid::nil(), &pairs(p), Handling::Lenient).is_err()
        };
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
        let c = criteria(&[("code", "247441003")]);
        assert_eq!(
            c.score_codes,
            Some(vec!["247441003".into(), "redness".into()])
        );
        assert_eq!(c.outcome_codes, Some(vec![]));
        let c = criteria(&[(
            "code",
            "urn:aftercare:fhir:CodeSystem:outcome|goodman-baron",
        )]);
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
}
