//! The symptom scales: PRO-CTCAE-derived severity (0-4) and presence (0/1), and score validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// How an item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymptomKind {
    /// 0 None, 1 Mild, 2 Moderate, 3 Severe, 4 Very severe ("at its worst today").
    Severity,
    /// 0 No, 1 Yes.
    Presence,
}

impl SymptomKind {
    pub const ALL: [SymptomKind; 2] = [SymptomKind::Severity, SymptomKind::Presence];

    pub fn as_str(self) -> &'static str {
        match self {
            SymptomKind::Severity => "severity",
            SymptomKind::Presence => "presence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "severity" => Some(SymptomKind::Severity),
            "presence" => Some(SymptomKind::Presence),
            _ => None,
        }
    }

    /// The answers a patient chooses from, lowest first; the highest value is `len() - 1`.
    pub fn answers(self) -> &'static [&'static str] {
        match self {
            SymptomKind::Severity => &["None", "Mild", "Moderate", "Severe", "Very severe"],
            SymptomKind::Presence => &["No", "Yes"],
        }
    }

    pub fn max(self) -> i16 {
        self.answers().len() as i16 - 1
    }
}

/// One item of a clinic's catalogue, as far as validating a score needs it.
#[derive(Debug, Clone)]
pub struct Item {
    pub code: String,
    pub kind: SymptomKind,
}

/// A score the patient gave, known to be in its item's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(i16);

impl Score {
    pub fn value(self) -> i16 {
        self.0
    }
}

/// Checks each score against the catalogue: the code must exist and the value be in range.
pub fn validate_scores(
    invalid: &mut Invalid,
    field: &str,
    scores: &BTreeMap<String, i64>,
    catalogue: &[Item],
) -> BTreeMap<String, Score> {
    if scores.is_empty() {
        invalid.add(field, "must hold at least one score");
    }
    let mut valid = BTreeMap::new();
    for (code, &value) in scores {
        let path = format!("{field}.{code}");
        match catalogue.iter().find(|item| &item.code == code) {
            None => invalid.add(path, "is not a symptom of this clinic's catalogue"),
            Some(item) if value < 0 || value > i64::from(item.kind.max()) => {
                invalid.add(path, format!("must be between 0 and {}", item.kind.max()));
            }
            Some(_) => {
                valid.insert(code.clone(), Score(value as i16));
            }
        }
    }
    valid
}

/// Whether `code` has the form of a symptom code: 2-40 of a-z, 0-9 and _, starting with a letter.
pub fn is_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// How many items a clinic may add to the defaults.
pub const MAX_CLINIC_ITEMS: usize = 50;

/// A clinic's own item: a code like the defaults' and a label. (Whether the code is taken, by a
/// default or by the clinic's own item, is a conflict with the catalogue, not a rule of the item.)
pub fn check_new_item(invalid: &mut Invalid, code: &str, label: &str) {
    invalid.check(
        is_code(code),
        "code",
        "must be 2-40 of a-z, 0-9 and _, starting with a letter",
    );
    let n = super::text::trim(label).chars().count();
    invalid.check((1..=120).contains(&n), "label", "must be 1-120 characters");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Vec<Item> {
        vec![
            Item {
                code: "redness".into(),
                kind: SymptomKind::Severity,
            },
            Item {
                code: "fever".into(),
                kind: SymptomKind::Presence,
            },
        ]
    }

    #[test]
    fn scores_are_checked_against_their_items_range() {
        let scores = BTreeMap::from([
            ("redness".to_string(), 4),
            ("fever".to_string(), 2),
            ("glow".to_string(), 1),
        ]);
        let mut inv = Invalid::default();
        let valid = validate_scores(&mut inv, "scores", &scores, &catalogue());
        assert_eq!(valid.len(), 1);
        assert_eq!(valid["redness"].value(), 4);
        let fields: Vec<_> = inv.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["scores.fever", "scores.glow"]);
    }

    #[test]
    fn an_empty_check_in_is_refused() {
        let mut inv = Invalid::default();
        validate_scores(&mut inv, "scores", &BTreeMap::new(), &catalogue());
        assert_eq!(inv.0[0].field, "scores");
    }

    #[test]
    fn clinic_items_need_a_code_and_a_label() {
        let mut inv = Invalid::default();
        check_new_item(&mut inv, "tightness", "Tight skin");
        assert!(inv.0.is_empty());
        let mut inv = Invalid::default();
        check_new_item(&mut inv, "Tight-Skin", "");
        assert_eq!(inv.0.len(), 2);
    }
}
