//! When a clinician must be told (domain.md): the alert rules, with their codes and levels. They stay
//! quiet on an ordinary recovery: strong redness, swelling and pain on the treatment day, flaking and
//! itching rising on days 2-4, and a rating that wobbles by one step from day to day raise nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::recovery::slower_than_usual_on;
use super::symptoms::SymptomKind;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[schema(as = AlertLevel)]
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
#[schema(as = AlertRule)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `infection` >= 1, on any day.
    InfectionSigns,
    /// `fever` = 1, on any day.
    Fever,
    /// `blisters` = 1, on any day (cold-sore reactivation).
    Blisters,
    /// Any severity item rated 4 on day 1 or later, or pain rated 4 on any day.
    VerySevere,
    /// Any severity item rated 3 or more on day 3 or later (but flaking and itching on days 3-4,
    /// which peak then as the skin heals).
    SeverePersisting,
    /// From day 2 on, redness, swelling or pain at least 2 steps above the lowest value reported for
    /// it on an earlier day, day 1 or later.
    Worsening,
    /// Redness or swelling >= 2 on day 4 or later.
    SlowRecovery,
    /// Breakout or darkening >= 2 on day 7 or later.
    LateReaction,
    /// Two scheduled check-in days in a row without a check-in, within days 0-7.
    MissedCheckIns,
    /// A symptom still rated 1 or more after the day by which 90% of the protocol's treatments had
    /// resolved it (`recovery::usual_resolution_day`); at most once per treatment.
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

    /// Raised at most once per treatment, even after a clinician resolved it; the other rules are
    /// raised again when met after their alert was resolved.
    pub fn once_per_treatment(self) -> bool {
        self == Rule::SlowerThanPeers
    }
}

/// The symptoms whose return after settling is `worsening`.
pub const WORSENING: [&str; 3] = ["redness", "swelling", "pain"];

/// Whether `worsening` could fire on this check-in, so that the earlier days' scores are worth
/// reading: a symptom it watches scored at least 2 (two steps above the lowest possible earlier
/// score) from day 2 on.
pub fn needs_earlier_days(day: i32, scores: &[(String, SymptomKind, i16)]) -> bool {
    day >= 2
        && scores
            .iter()
            .any(|(code, _, score)| *score >= 2 && WORSENING.contains(&code.as_str()))
}

/// One check-in as the rules see it.
pub struct Observation<'a> {
    /// Days since the treatment.
    pub day: i32,
    /// The check-in's scores, with the kind of each item.
    pub scores: &'a [(String, SymptomKind, i16)],
    /// For `worsening`: the lowest daily score of each of its symptoms on an earlier day, day 1 or
    /// later (see `lowest_before`).
    pub lowest_before: &'a BTreeMap<String, i16>,
    /// The protocol's usual resolution day of a symptom (`recovery::usual_resolution_day`).
    pub usual_resolution_day: &'a dyn Fn(&str) -> Option<u16>,
}

/// The lowest daily score of each symptom on the days before `day`, from day 1 on; `daily` holds
/// (symptom, day, the day's worst score).
pub fn lowest_before(
    day: i32,
    daily: impl IntoIterator<Item = (String, i32, i16)>,
) -> BTreeMap<String, i16> {
    let mut lowest: BTreeMap<String, i16> = BTreeMap::new();
    for (code, d, score) in daily {
        if (1..day).contains(&d) {
            let low = lowest.entry(code).or_insert(score);
            *low = (*low).min(score);
        }
    }
    lowest
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
    let day = o.day;
    for (code, kind, score) in o.scores {
        let (code, score) = (code.as_str(), *score);
        match code {
            "infection" if score >= 1 => raise(Rule::InfectionSigns, code, score),
            "fever" if score == 1 => raise(Rule::Fever, code, score),
            "blisters" if score == 1 => raise(Rule::Blisters, code, score),
            _ => {}
        }
        if *kind == SymptomKind::Severity {
            // Very severe redness or swelling on the treatment day is expected after deeper
            // needling; pain that severe is not.
            if score == 4 && (day >= 1 || code == "pain") {
                raise(Rule::VerySevere, code, score);
            }
            let healing = matches!(code, "flaking" | "itching") && day <= 4;
            if score >= 3 && day >= 3 && !healing {
                raise(Rule::SeverePersisting, code, score);
            }
        }
        // Two steps, because a rating moves by one from day to day without anything changing.
        if WORSENING.contains(&code)
            && day >= 2
            && o.lowest_before
                .get(code)
                .is_some_and(|&low| score >= low + 2)
        {
            raise(Rule::Worsening, code, score);
        }
        if matches!(code, "redness" | "swelling") && score >= 2 && day >= 4 {
            raise(Rule::SlowRecovery, code, score);
        }
        if matches!(code, "breakout" | "darkening") && score >= 2 && day >= 7 {
            raise(Rule::LateReaction, code, score);
        }
        let (Ok(d), Ok(s)) = (u16::try_from(day), u8::try_from(score)) else {
            continue;
        };
        if slower_than_usual_on(d, s, (o.usual_resolution_day)(code)) {
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

    #[test]
    fn earlier_days_are_read_only_when_worsening_could_fire() {
        assert!(needs_earlier_days(2, &scores(&[("redness", 2)])));
        // Nearest cases that need nothing: a score of 1, day 1, a symptom the rule doesn't watch.
        assert!(!needs_earlier_days(
            2,
            &scores(&[("redness", 1), ("pain", 0)])
        ));
        assert!(!needs_earlier_days(1, &scores(&[("redness", 4)])));
        assert!(!needs_earlier_days(5, &scores(&[("flaking", 4)])));
    }

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

    /// The rules a check-in on `day` meets, after earlier days' lowest scores `lowest`, in a
    /// protocol whose usual resolution day of every symptom is `usual`.
    fn rules_with(
        day: i32,
        list: &[(&str, i16)],
        lowest: &[(&str, i16)],
        usual: Option<u16>,
    ) -> Vec<Rule> {
        let s = scores(list);
        let lowest: BTreeMap<String, i16> =
            lowest.iter().map(|&(c, v)| (c.to_string(), v)).collect();
        let usual = |_: &str| usual;
        let o = Observation {
            day,
            scores: &s,
            lowest_before: &lowest,
            usual_resolution_day: &usual,
        };
        evaluate(&o).into_iter().map(|(r, _)| r).collect()
    }

    fn rules(day: i32, list: &[(&str, i16)], lowest: &[(&str, i16)]) -> Vec<Rule> {
        rules_with(day, list, lowest, None)
    }

    const NONE: [Rule; 0] = [];

    #[test]
    fn an_ordinary_recovery_raises_nothing() {
        // Strong redness, swelling and pain on the treatment day; flaking and itching peaking on
        // days 3-4; redness wobbling by a step.
        assert_eq!(
            rules(
                0,
                &[
                    ("redness", 4),
                    ("swelling", 4),
                    ("pain", 3),
                    ("infection", 0),
                    ("fever", 0)
                ],
                &[]
            ),
            NONE
        );
        assert_eq!(
            rules(1, &[("redness", 3), ("swelling", 2), ("pain", 1)], &[]),
            NONE
        );
        assert_eq!(
            rules(
                2,
                &[("redness", 3), ("pain", 2)],
                &[("redness", 3), ("pain", 1)]
            ),
            NONE
        );
        assert_eq!(
            rules(
                3,
                &[("redness", 2), ("flaking", 3), ("itching", 3)],
                &[("redness", 2)]
            ),
            NONE
        );
        assert_eq!(
            rules(
                4,
                &[("redness", 1), ("flaking", 3), ("itching", 3)],
                &[("redness", 1)]
            ),
            NONE
        );
        assert_eq!(
            rules(
                7,
                &[("redness", 0), ("breakout", 1), ("darkening", 1)],
                &[("redness", 0)]
            ),
            NONE
        );
    }

    #[test]
    fn red_flags_on_any_day() {
        assert_eq!(rules(0, &[("infection", 1)], &[]), [Rule::InfectionSigns]);
        assert_eq!(rules(0, &[("infection", 0)], &[]), NONE);
        assert_eq!(rules(0, &[("fever", 1)], &[]), [Rule::Fever]);
        assert_eq!(rules(5, &[("blisters", 1)], &[]), [Rule::Blisters]);
        assert_eq!(rules(5, &[("blisters", 0), ("fever", 0)], &[]), NONE);
    }

    #[test]
    fn very_severe_from_day_one_and_pain_always() {
        assert_eq!(rules(1, &[("redness", 4)], &[]), [Rule::VerySevere]);
        assert_eq!(rules(0, &[("redness", 4), ("swelling", 4)], &[]), NONE);
        assert_eq!(rules(0, &[("pain", 4)], &[]), [Rule::VerySevere]);
        assert_eq!(rules(0, &[("pain", 3)], &[]), NONE);
    }

    #[test]
    fn severe_persisting_from_day_three() {
        assert_eq!(
            rules(3, &[("pain", 3)], &[("pain", 3)]),
            [Rule::SeverePersisting]
        );
        assert_eq!(rules(2, &[("pain", 3)], &[("pain", 3)]), NONE);
        // Flaking and itching peak on days 2-4 as the skin heals; on day 5 they count.
        assert_eq!(rules(4, &[("flaking", 3), ("itching", 3)], &[]), NONE);
        assert_eq!(rules(5, &[("flaking", 3)], &[]), [Rule::SeverePersisting]);
        // A 4 from day 3 is both very severe and severe beyond the usual 72 hours.
        assert_eq!(
            rules(3, &[("bruising", 4)], &[]),
            [Rule::VerySevere, Rule::SeverePersisting]
        );
    }

    #[test]
    fn worsening_is_two_steps_above_the_lowest_since_day_one() {
        assert_eq!(
            rules(2, &[("swelling", 3)], &[("swelling", 1)]),
            [Rule::Worsening]
        );
        // One step is the day-to-day wobble of a rating.
        assert_eq!(rules(2, &[("swelling", 2)], &[("swelling", 1)]), NONE);
        assert_eq!(
            rules(2, &[("redness", 2)], &[("redness", 0)]),
            [Rule::Worsening]
        );
        // Not on day 1, and day 0's value is not a baseline (it is the treatment's own reaction).
        assert_eq!(rules(1, &[("redness", 2)], &[("redness", 0)]), NONE);
        assert_eq!(rules(2, &[("redness", 2)], &[]), NONE);
        // Only redness, swelling and pain: flaking is expected to rise.
        assert_eq!(rules(3, &[("flaking", 2)], &[("flaking", 0)]), NONE);
    }

    #[test]
    fn slow_recovery_and_late_reaction() {
        assert_eq!(
            rules(4, &[("redness", 2)], &[("redness", 2)]),
            [Rule::SlowRecovery]
        );
        assert_eq!(rules(3, &[("redness", 2)], &[("redness", 2)]), NONE);
        assert_eq!(rules(4, &[("redness", 1)], &[("redness", 1)]), NONE);
        assert_eq!(rules(7, &[("darkening", 2)], &[]), [Rule::LateReaction]);
        assert_eq!(rules(6, &[("darkening", 2)], &[]), NONE);
        assert_eq!(rules(7, &[("breakout", 1)], &[]), NONE);
    }

    #[test]
    fn slower_than_peers_after_the_usual_resolution_day() {
        // Usually resolved by day 3: still mild on day 4 is slower; mild on day 3 is not, nor is a
        // score above every other patient's on day 1, nor anything while the cohort can't say.
        assert_eq!(
            rules_with(4, &[("itching", 1)], &[], Some(3)),
            [Rule::SlowerThanPeers]
        );
        assert_eq!(rules_with(3, &[("itching", 1)], &[], Some(3)), NONE);
        assert_eq!(rules_with(4, &[("itching", 0)], &[], Some(3)), NONE);
        assert_eq!(rules_with(1, &[("itching", 3)], &[], Some(3)), NONE);
        assert_eq!(rules_with(9, &[("itching", 1)], &[], None), NONE);
        assert!(Rule::SlowerThanPeers.once_per_treatment());
        assert!(!Rule::Worsening.once_per_treatment());
    }

    #[test]
    fn lowest_before_takes_earlier_days_from_day_one() {
        let daily = [
            ("redness".to_string(), 0, 0),
            ("redness".to_string(), 1, 2),
            ("redness".to_string(), 2, 1),
            ("redness".to_string(), 3, 0),
            ("pain".to_string(), 2, 2),
        ];
        let low = lowest_before(3, daily);
        assert_eq!(
            low,
            BTreeMap::from([("pain".to_string(), 2), ("redness".to_string(), 1)])
        );
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
