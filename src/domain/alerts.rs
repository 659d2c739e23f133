//! When a clinician must be told (domain.md): the alert rules, with their codes and levels. Strong
//! redness, swelling and pain on the treatment day, and flaking and itching on days 2-4, are expected
//! and raise nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::symptoms::SymptomKind;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Urgent,
    High,
    Normal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Urgent => "urgent",
            Level::High => "high",
            Level::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        [Level::Urgent, Level::High, Level::Normal]
            .into_iter()
            .find(|l| l.as_str() == s)
    }

    /// Urgent first.
    pub fn rank(self) -> i16 {
        self as i16
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `infection` >= 1, on any day.
    InfectionSigns,
    /// `fever` = 1, on any day.
    Fever,
    /// `blisters` = 1, on any day (cold-sore reactivation).
    Blisters,
    /// Any severity item rated 4.
    VerySevere,
    /// Any severity item rated 3 on day 2 or later (but flaking and itching on days 2-4, which peak
    /// then as the skin heals).
    SeverePersisting,
    /// From day 3 on, redness, swelling or pain higher than at the patient's previous check-in.
    Worsening,
    /// Redness or swelling >= 2 on day 4 or later.
    SlowRecovery,
    /// Breakout or darkening >= 2 on day 7 or later.
    LateReaction,
    /// Two scheduled check-in days in a row without a check-in, within days 0-7.
    MissedCheckIns,
    /// A daily score above the protocol cohort's 90th percentile for that day (20 or more reported).
    SlowerThanPeers,
}

pub const RULES: [Rule; 10] = [
    Rule::InfectionSigns,
    Rule::Fever,
    Rule::Blisters,
    Rule::VerySevere,
    Rule::SeverePersisting,
    Rule::Worsening,
    Rule::SlowRecovery,
    Rule::LateReaction,
    Rule::MissedCheckIns,
    Rule::SlowerThanPeers,
];

impl Rule {
    pub fn level(self) -> Level {
        match self {
            Rule::InfectionSigns | Rule::Fever | Rule::Blisters | Rule::VerySevere => Level::Urgent,
            Rule::SeverePersisting | Rule::Worsening => Level::High,
            Rule::SlowRecovery
            | Rule::LateReaction
            | Rule::MissedCheckIns
            | Rule::SlowerThanPeers => Level::Normal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::InfectionSigns => "infection_signs",
            Rule::Fever => "fever",
            Rule::Blisters => "blisters",
            Rule::VerySevere => "very_severe",
            Rule::SeverePersisting => "severe_persisting",
            Rule::Worsening => "worsening",
            Rule::SlowRecovery => "slow_recovery",
            Rule::LateReaction => "late_reaction",
            Rule::MissedCheckIns => "missed_check_ins",
            Rule::SlowerThanPeers => "slower_than_peers",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        RULES.into_iter().find(|r| r.as_str() == s)
    }
}

/// One check-in as the rules see it.
pub struct Observation<'a> {
    /// Days since the treatment.
    pub day: i32,
    /// The check-in's scores, with the kind of each item.
    pub scores: &'a [(String, SymptomKind, i16)],
    /// The scores of the patient's previous check-in for the same treatment, if any.
    pub previous: Option<&'a BTreeMap<String, i16>>,
    /// The cohort's 90th percentile of a symptom on this day, where 20 or more treatments reported it.
    pub peers_p90: &'a dyn Fn(&str) -> Option<i16>,
}

/// The rules a check-in meets, each with the scores that raised it.
pub fn evaluate(o: &Observation) -> Vec<(Rule, BTreeMap<String, i16>)> {
    let mut raised: BTreeMap<Rule, BTreeMap<String, i16>> = BTreeMap::new();
    let mut raise = |rule: Rule, code: &str, score: i16| {
        raised
            .entry(rule)
            .or_default()
            .insert(code.to_string(), score);
    };
    for (code, kind, score) in o.scores {
        let (code, score) = (code.as_str(), *score);
        match code {
            "infection" if score >= 1 => raise(Rule::InfectionSigns, code, score),
            "fever" if score == 1 => raise(Rule::Fever, code, score),
            "blisters" if score == 1 => raise(Rule::Blisters, code, score),
            _ => {}
        }
        if *kind == SymptomKind::Severity {
            if score == 4 {
                raise(Rule::VerySevere, code, score);
            }
            let healing = matches!(code, "flaking" | "itching") && (2..=4).contains(&o.day);
            if score == 3 && o.day >= 2 && !healing {
                raise(Rule::SeverePersisting, code, score);
            }
        }
        if matches!(code, "redness" | "swelling" | "pain") && o.day >= 3 {
            let before = o.previous.and_then(|p| p.get(code));
            if before.is_some_and(|&b| score > b) {
                raise(Rule::Worsening, code, score);
            }
        }
        if matches!(code, "redness" | "swelling") && score >= 2 && o.day >= 4 {
            raise(Rule::SlowRecovery, code, score);
        }
        if matches!(code, "breakout" | "darkening") && score >= 2 && o.day >= 7 {
            raise(Rule::LateReaction, code, score);
        }
        if (o.peers_p90)(code).is_some_and(|p90| score > p90) {
            raise(Rule::SlowerThanPeers, code, score);
        }
    }
    raised.into_iter().collect()
}

/// `missed_check_ins`: the first two scheduled days in a row, within days 0-7 and already past, on
/// which the patient did not check in.
pub fn missed_in_a_row(
    schedule: &[i32],
    days_passed: i32,
    checked_in: impl Fn(i32) -> bool,
) -> Option<(i32, i32)> {
    let due: Vec<i32> = schedule
        .iter()
        .copied()
        .filter(|&d| (0..=7).contains(&d) && d < days_passed)
        .collect();
    due.windows(2)
        .find(|w| !checked_in(w[0]) && !checked_in(w[1]))
        .map(|w| (w[0], w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(list: &[(&str, i16)]) -> Vec<(String, SymptomKind, i16)> {
        list.iter()
            .map(|&(c, s)| {
                let kind = if matches!(c, "fever" | "blisters") {
                    SymptomKind::Presence
                } else {
                    SymptomKind::Severity
                };
                (c.to_string(), kind, s)
            })
            .collect()
    }

    fn rules(day: i32, list: &[(&str, i16)], previous: Option<&[(&str, i16)]>) -> Vec<Rule> {
        let s = scores(list);
        let prev: Option<BTreeMap<String, i16>> =
            previous.map(|p| p.iter().map(|&(c, v)| (c.to_string(), v)).collect());
        let none = |_: &str| None;
        let o = Observation {
            day,
            scores: &s,
            previous: prev.as_ref(),
            peers_p90: &none,
        };
        evaluate(&o).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn a_normal_recovery_raises_nothing() {
        // Strong redness, swelling and pain on the treatment day; flaking and itching peaking on day 3.
        assert!(
            rules(
                0,
                &[
                    ("redness", 3),
                    ("swelling", 3),
                    ("pain", 3),
                    ("infection", 0),
                    ("fever", 0)
                ],
                None
            )
            .is_empty()
        );
        assert!(
            rules(
                1,
                &[("redness", 2), ("swelling", 2), ("pain", 1)],
                Some(&[("redness", 3)])
            )
            .is_empty()
        );
        assert!(
            rules(
                3,
                &[("redness", 1), ("flaking", 3), ("itching", 2)],
                Some(&[("redness", 2)])
            )
            .is_empty()
        );
        assert!(
            rules(
                7,
                &[("redness", 0), ("breakout", 1), ("darkening", 1)],
                Some(&[("redness", 0)])
            )
            .is_empty()
        );
    }

    #[test]
    fn each_rule_and_its_nearest_miss() {
        assert_eq!(rules(0, &[("infection", 1)], None), [Rule::InfectionSigns]);
        assert_eq!(rules(0, &[("fever", 1)], None), [Rule::Fever]);
        assert_eq!(rules(5, &[("blisters", 1)], None), [Rule::Blisters]);
        assert!(rules(5, &[("blisters", 0), ("fever", 0), ("infection", 0)], None).is_empty());
        assert_eq!(rules(0, &[("bruising", 4)], None), [Rule::VerySevere]);
        assert_eq!(rules(2, &[("pain", 3)], None), [Rule::SeverePersisting]);
        assert!(rules(1, &[("pain", 3)], None).is_empty());
        assert!(rules(4, &[("flaking", 3), ("itching", 3)], None).is_empty());
        assert_eq!(rules(5, &[("flaking", 3)], None), [Rule::SeverePersisting]);
        assert_eq!(
            rules(3, &[("swelling", 2)], Some(&[("swelling", 1)])),
            [Rule::Worsening]
        );
        assert!(rules(2, &[("swelling", 2)], Some(&[("swelling", 1)])).is_empty());
        assert!(rules(3, &[("swelling", 1)], Some(&[("swelling", 1)])).is_empty());
        assert_eq!(
            rules(4, &[("redness", 2)], Some(&[("redness", 2)])),
            [Rule::SlowRecovery]
        );
        assert!(rules(3, &[("redness", 2)], Some(&[("redness", 2)])).is_empty());
        assert_eq!(rules(7, &[("darkening", 2)], None), [Rule::LateReaction]);
        assert!(rules(6, &[("darkening", 2)], None).is_empty());
    }

    #[test]
    fn peers_compare_against_the_cohorts_90th_percentile() {
        let s = scores(&[("redness", 2), ("swelling", 1)]);
        let p90 = |code: &str| (code == "redness").then_some(1);
        let o = Observation {
            day: 1,
            scores: &s,
            previous: None,
            peers_p90: &p90,
        };
        let raised = evaluate(&o);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].0, Rule::SlowerThanPeers);
        assert_eq!(raised[0].1, BTreeMap::from([("redness".to_string(), 2)]));
    }

    #[test]
    fn missed_days_in_a_row() {
        let schedule = [0, 1, 2, 3, 4, 5, 6, 7, 14];
        assert_eq!(
            missed_in_a_row(&schedule, 4, |d| d == 0 || d == 3),
            Some((1, 2))
        );
        assert_eq!(missed_in_a_row(&schedule, 4, |d| d == 0 || d == 2), None);
        // Today (day 3) has not passed yet.
        assert_eq!(missed_in_a_row(&schedule, 3, |d| d <= 1), None);
        assert_eq!(missed_in_a_row(&schedule, 30, |d| d <= 6), None);
        // Scheduled days need not be consecutive calendar days.
        assert_eq!(missed_in_a_row(&[0, 2, 4], 5, |d| d == 0), Some((2, 4)));
        assert_eq!(
            Rule::parse("very_severe").map(Rule::level),
            Some(Level::Urgent)
        );
    }
}
