//! FHIR search parameters: which ones each resource type supports (one table, which the parser
//! and the CapabilityStatement both read), and what a search URL asks for, parsed into plain
//! values (the criteria of the rows, a window of last-updated times, a page), or the parameter
//! that is wrong or not supported.

mod dates;
#[cfg(test)]
mod tests;
mod tokens;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::kind::Kind;
use crate::db::fhir::{Criteria, Cursor, Span};
use dates::{DateValue, earlier, later};
use tokens::{Set, and, category_sets, code_sets, split_raw, tokens};

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
    Created,
    Url,
    Version,
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
            Param::Created => "created",
            Param::Url => "url",
            Param::Version => "version",
        }
    }

    /// The parameter's FHIR search type.
    pub fn kind(self) -> &'static str {
        match self {
            Param::Id | Param::Identifier | Param::Code | Param::Category | Param::Version => {
                "token"
            }
            Param::Url => "uri",
            Param::LastUpdated | Param::Date | Param::Authored | Param::Created => "date",
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
                "system|code or the code alone: a symptom item (ours or the clinic's own) or an \
                 outcome"
            }
            Param::Url => "The Questionnaire's canonical URL",
            Param::Version => "The Questionnaire's version; several separated by commas",
            Param::Category => "survey (the patient's answers and ratings) or exam (a clinician's)",
            Param::Date | Param::Authored | Param::Created => {
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
        Kind::Questionnaire => &[Url, Version, LastUpdated, Count],
        Kind::Group => &[LastUpdated, Count],
        Kind::Media => &[Patient, Subject, Created, LastUpdated, Count],
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

/// A patient reference as a search names it: `Patient/{id}` or the bare id.
pub fn patient_reference(value: &str) -> Option<Uuid> {
    value.strip_prefix("Patient/").unwrap_or(value).parse().ok()
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
    let mut versions: Option<Set> = None;
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
                    let (ts, to) = code_sets(&t, clinic);
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
            Param::Url => {
                // A canonical may name its version (`url|version`).
                let (url, version) = value.split_once('|').unwrap_or((value, ""));
                let ours = url == crate::fhir::codes::questionnaire_url(clinic);
                let set = match (ours, version) {
                    (false, _) => Set::none(),
                    (true, "") => Set::All,
                    (true, v) => Set::of([v]),
                };
                versions = and(versions, set);
            }
            Param::Version => {
                let mut set = Set::none();
                for t in tokens(name, value)? {
                    set = set.union(Set::of([t.code.as_str()]));
                }
                versions = and(versions, set);
            }
            Param::Date | Param::Authored | Param::Created => {
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
        questionnaire_versions: versions.and_then(Set::into_list),
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
