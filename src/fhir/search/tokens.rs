//! Token search values (`identifier`, `code`, `category`): `system|code` alternatives, and the sets
//! of check-in scores, outcomes and assessors that a code or a category names.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::fhir::codes;

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
pub(super) struct Token {
    pub(super) system: Option<String>,
    pub(super) code: String,
}

pub(super) fn tokens(name: &str, value: &str) -> Result<Vec<Token>, String> {
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
pub(super) fn split_raw(value: &str, sep: char) -> Vec<String> {
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
pub(super) enum Set {
    All,
    Only(BTreeSet<String>),
}

impl Set {
    pub(super) fn none() -> Set {
        Set::Only(BTreeSet::new())
    }

    pub(super) fn of<const N: usize>(items: [&str; N]) -> Set {
        Set::Only(items.iter().map(|s| s.to_string()).collect())
    }

    pub(super) fn union(self, other: Set) -> Set {
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

    pub(super) fn into_list(self) -> Option<Vec<String>> {
        match self {
            Set::All => None,
            Set::Only(s) => Some(s.into_iter().collect()),
        }
    }
}

/// ANDs one more condition into an optional one.
pub(super) fn and(current: Option<Set>, more: Set) -> Option<Set> {
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

/// The check-in scores and the outcome values a `code` token names, in the clinic `clinic`: a
/// default item in our system, the clinic's own in the clinic's.
pub(super) fn code_sets(t: &Token, clinic: Uuid) -> (Set, Set) {
    let is_default = |code: &str| codes::SYMPTOMS.iter().any(|c| c.code == code);
    let items = |default: bool| {
        if t.code.is_empty() && default {
            Set::Only(codes::SYMPTOMS.iter().map(|c| c.code.to_string()).collect())
        } else if t.code.is_empty() {
            // The parser does not know the clinic's items: any item (defaults too).
            Set::All
        } else if is_default(&t.code) == default {
            Set::of([t.code.as_str()])
        } else {
            Set::none()
        }
    };
    let outcome = || {
        let matching = OUTCOMES
            .iter()
            .filter(|(code, _)| t.code.is_empty() || *code == t.code)
            .map(|(_, row)| row.to_string());
        Set::Only(matching.collect())
    };
    match t.system.as_deref() {
        None => (Set::of([t.code.as_str()]), outcome()),
        Some(codes::SYMPTOM) => (items(true), Set::none()),
        Some(codes::OUTCOME) => (Set::none(), outcome()),
        Some(s) if codes::clinic_of_items(s) == Some(clinic) => (items(false), Set::none()),
        Some(_) => (Set::none(), Set::none()),
    }
}

/// The check-in scores (all or none) and the assessors of outcomes a `category` token names: the
/// patient's answers and ratings are surveys, a clinician's ratings exams.
pub(super) fn category_sets(t: &Token) -> (Set, Set) {
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
