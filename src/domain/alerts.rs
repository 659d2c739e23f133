//! When a clinician must be told (domain.md): the alert rules, with their codes and levels. They stay
//! quiet on an ordinary recovery: strong redness, swelling and pain on the treatment day, flaking and
//! itching rising on days 2-4, and a rating that wobbles by one step from day to day raise nothing.

use std::collections::{BTreeMap, BTreeSet};

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
    /// Two scheduled check-in days in a row without a check-in, after a check-in that raised an
    /// alert or rated a severity item 3 or more (`bad_report`).
    SilentAfterBadReport,
    /// Three scheduled check-in days in a row without a check-in, within days 0-7, the patient
    /// having been reminded where reminders are on.
    MissedCheckIns,
    /// A symptom still rated 1 or more after the day by which 90% of the protocol's treatments had
    /// resolved it (`recovery::usual_resolution_day`); at most once per treatment.
    SlowerThanPeers,
}

pub const RULES: [Rule; 11] = [
    Rule::InfectionSigns,
    Rule::Fever,
    Rule::Blisters,
    Rule::VerySevere,
    Rule::SeverePersisting,
    Rule::Worsening,
    Rule::SlowRecovery,
    Rule::LateReaction,
    Rule::SilentAfterBadReport,
    Rule::MissedCheckIns,
    Rule::SlowerThanPeers,
];

impl Rule {
    pub fn level(self) -> Level {
        match self {
            Rule::InfectionSigns | Rule::Fever | Rule::Blisters | Rule::VerySevere => Level::Urgent,
            Rule::SeverePersisting | Rule::Worsening | Rule::SilentAfterBadReport => Level::High,
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
            Rule::SilentAfterBadReport => "silent_after_bad_report",
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

    /// Raised by the scheduled job from the check-ins that did not come, never by a check-in.
    pub fn is_about_silence(self) -> bool {
        matches!(self, Rule::SilentAfterBadReport | Rule::MissedCheckIns)
    }
}

/// What resolving an alert led to (domain.md, "What a clinic sees of its own alerts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[schema(as = AlertAction)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ContactedPatient,
    SawPatient,
    ChangedTreatment,
    NoAction,
}

pub const ACTIONS: [Action; 4] = [
    Action::ContactedPatient,
    Action::SawPatient,
    Action::ChangedTreatment,
    Action::NoAction,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ContactedPatient => "contacted_patient",
            Action::SawPatient => "saw_patient",
            Action::ChangedTreatment => "changed_treatment",
            Action::NoAction => "no_action",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        ACTIONS.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether something was done for the patient.
    pub fn is_action(self) -> bool {
        self != Action::NoAction
    }
}

/// One rule's alert burden over a period: how many alerts, per 100 patient-weeks in follow-up,
/// and what resolving them led to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burden {
    pub alerts: u32,
    /// None when no patient was in follow-up.
    pub per_100_patient_weeks: Option<f64>,
    pub resolved: u32,
    /// Resolved saying something was done, and saying nothing was needed; the rest of the
    /// resolved alerts did not say.
    pub led_to_action: u32,
    pub no_action: u32,
}

impl Burden {
    /// The share of resolved alerts that said what they led to and led to an action; None
    /// before any did.
    pub fn action_share(&self) -> Option<f64> {
        let said = self.led_to_action + self.no_action;
        (said > 0).then(|| f64::from(self.led_to_action) / f64::from(said))
    }
}

/// The burden of the alerts raised in a period, each given as (its rule, whether it is resolved,
/// the action its resolution recorded), over `patient_weeks` in follow-up in that period: one
/// figure per rule, in the order of `RULES`, and the whole.
pub fn burden(
    alerts: impl IntoIterator<Item = (Rule, bool, Option<Action>)>,
    patient_weeks: f64,
) -> (Vec<(Rule, Burden)>, Burden) {
    let empty = Burden {
        alerts: 0,
        per_100_patient_weeks: None,
        resolved: 0,
        led_to_action: 0,
        no_action: 0,
    };
    let mut by_rule: BTreeMap<Rule, Burden> = RULES.iter().map(|&r| (r, empty)).collect();
    let mut all = empty;
    for (rule, resolved, action) in alerts {
        for b in [by_rule.entry(rule).or_insert(empty), &mut all] {
            b.alerts += 1;
            b.resolved += u32::from(resolved);
            b.led_to_action += u32::from(action.is_some_and(Action::is_action));
            b.no_action += u32::from(action == Some(Action::NoAction));
        }
    }
    let rate = |b: &mut Burden| {
        b.per_100_patient_weeks =
            (patient_weeks > 0.0).then(|| 100.0 * f64::from(b.alerts) / patient_weeks);
    };
    by_rule.values_mut().for_each(rate);
    rate(&mut all);
    (by_rule.into_iter().collect(), all)
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

/// Whether a rating is trouble for `silent_after_bad_report`: a severity item rated 3 or more,
/// but not where domain.md calls it expected (anything on the treatment day, flaking and itching
/// while they peak on days 2-4).
pub fn rated_severe(day: i32, code: &str, kind: SymptomKind, score: i16) -> bool {
    let healing = matches!(code, "flaking" | "itching") && day <= 4;
    kind == SymptomKind::Severity && score >= 3 && day >= 1 && !healing
}

/// The urgent rules as data, for an app that must know a red flag without the server: the first
/// day since treatment from which `score` of the item raises an urgent alert by itself, if any. It
/// asks `evaluate`, so it can't drift from the rules the server runs.
pub fn urgent_from_day(code: &str, kind: SymptomKind, score: i16) -> Option<i32> {
    let scores = [(code.to_string(), kind, score)];
    let none = BTreeMap::new();
    // Every urgent rule starts by day 1 and holds from then on.
    (0..=1).find(|&day| {
        evaluate(&Observation {
            day,
            scores: &scores,
            lowest_before: &none,
            usual_resolution_day: &|_| None,
        })
        .iter()
        .any(|(rule, _)| rule.level() == Level::Urgent)
    })
}

/// The scheduled days already past (before `days_passed`), in order.
fn past(schedule: &[i32], days_passed: i32) -> impl Iterator<Item = i32> + '_ {
    schedule.iter().copied().filter(move |&d| d < days_passed)
}

/// `missed_check_ins`: the first three scheduled days in a row, within days 0-7 and already past,
/// without a check-in, where the patient was reminded on at least one of them (`reminded` is
/// always true for a patient who has reminders off: a clinic can't remind them from here).
pub fn missed_in_a_row(
    schedule: &[i32],
    days_passed: i32,
    checked_in: impl Fn(i32) -> bool,
    reminded: impl Fn(i32) -> bool,
) -> Option<[i32; 3]> {
    let due: Vec<i32> = past(schedule, days_passed)
        .filter(|d| (0..=7).contains(d))
        .collect();
    due.windows(3)
        .find(|w| w.iter().all(|&d| !checked_in(d)) && w.iter().any(|&d| reminded(d)))
        .map(|w| [w[0], w[1], w[2]])
}

/// `silent_after_bad_report`: the first two scheduled days in a row, already past, with no
/// check-in on or between them, whose patient's last check-in before them was a bad report.
/// `checked_in` holds every day with a check-in, `bad` the days with a bad report: a check-in
/// that raised an alert (but these two) or `rated_severe`.
pub fn silent_after_bad_report(
    schedule: &[i32],
    days_passed: i32,
    checked_in: &BTreeSet<i32>,
    bad: &BTreeSet<i32>,
) -> Option<[i32; 2]> {
    let due: Vec<i32> = past(schedule, days_passed).collect();
    due.windows(2)
        .find(|w| {
            checked_in.range(w[0]..=w[1]).next().is_none()
                && checked_in
                    .range(..w[0])
                    .next_back()
                    .is_some_and(|d| bad.contains(d))
        })
        .map(|w| [w[0], w[1]])
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
    fn three_missed_days_in_a_row_once_reminded() {
        let schedule = [0, 1, 2, 3, 4, 5, 6, 7, 14];
        let always = |_| true;
        assert_eq!(
            missed_in_a_row(&schedule, 5, |d| d == 0 || d == 4, always),
            Some([1, 2, 3])
        );
        // Two missed days are a patient who forgot: the reminder's task, not the clinic's.
        assert_eq!(
            missed_in_a_row(&schedule, 5, |d| d == 0 || d == 3, always),
            None
        );
        // Today (day 3) has not passed yet.
        assert_eq!(missed_in_a_row(&schedule, 3, |d| d == 0, always), None);
        assert_eq!(missed_in_a_row(&schedule, 30, |d| d <= 5, always), None);
        // With reminders on: only once a reminder went unanswered.
        assert_eq!(missed_in_a_row(&schedule, 5, |d| d == 0, |_| false), None);
        assert_eq!(
            missed_in_a_row(&schedule, 5, |d| d == 0, |d| d == 3),
            Some([1, 2, 3])
        );
        // Scheduled days need not be consecutive calendar days.
        assert_eq!(
            missed_in_a_row(&[0, 2, 4, 6], 7, |d| d == 0, always),
            Some([2, 4, 6])
        );
        assert_eq!(
            Rule::parse("very_severe").map(Rule::level),
            Some(Level::Urgent)
        );
    }

    #[test]
    fn silent_after_a_bad_report() {
        let schedule = [0, 1, 2, 3, 4, 5, 6, 7, 14, 21];
        let set = |days: &[i32]| days.iter().copied().collect::<BTreeSet<i32>>();
        // Pain rated 3 on day 1, then nothing on days 2 and 3.
        let checked = set(&[0, 1]);
        assert_eq!(
            silent_after_bad_report(&schedule, 4, &checked, &set(&[1])),
            Some([2, 3])
        );
        // The nearest quiet cases: the same silence after an ordinary report; only one day missed
        // so far; a good check-in between the bad one and the silence.
        assert_eq!(
            silent_after_bad_report(&schedule, 4, &checked, &set(&[])),
            None
        );
        assert_eq!(
            silent_after_bad_report(&schedule, 3, &checked, &set(&[1])),
            None
        );
        assert_eq!(
            silent_after_bad_report(&schedule, 5, &set(&[0, 1, 2]), &set(&[1])),
            None
        );
        // A check-in on a day off the schedule breaks the silence too.
        assert_eq!(
            silent_after_bad_report(
                &schedule,
                22,
                &set(&[0, 1, 2, 3, 4, 5, 6, 7, 17]),
                &set(&[7])
            ),
            None
        );
        assert_eq!(
            silent_after_bad_report(&schedule, 22, &set(&[0, 1, 2, 3, 4, 5, 6, 7]), &set(&[7])),
            Some([14, 21])
        );
        assert_eq!(Rule::SilentAfterBadReport.level(), Level::High);
    }

    #[test]
    fn a_bad_report_is_severe_beyond_what_is_expected() {
        let sev = SymptomKind::Severity;
        assert!(rated_severe(1, "pain", sev, 3));
        assert!(!rated_severe(1, "pain", sev, 2));
        // Strong reactions on the treatment day, and flaking or itching on days 2-4, are expected.
        assert!(!rated_severe(0, "redness", sev, 4));
        assert!(!rated_severe(4, "flaking", sev, 3));
        assert!(rated_severe(5, "flaking", sev, 3));
        assert!(!rated_severe(3, "fever", SymptomKind::Presence, 1));
    }

    #[test]
    fn the_urgent_answers_as_data() {
        let sev = SymptomKind::Severity;
        let yes_no = SymptomKind::Presence;
        assert_eq!(urgent_from_day("infection", sev, 1), Some(0));
        assert_eq!(urgent_from_day("infection", sev, 0), None);
        assert_eq!(urgent_from_day("fever", yes_no, 1), Some(0));
        assert_eq!(urgent_from_day("fever", yes_no, 0), None);
        assert_eq!(urgent_from_day("pain", sev, 4), Some(0));
        assert_eq!(urgent_from_day("pain", sev, 3), None);
        // Very severe redness is expected on the treatment day, not after.
        assert_eq!(urgent_from_day("redness", sev, 4), Some(1));
        assert_eq!(urgent_from_day("redness", sev, 3), None);
        assert_eq!(urgent_from_day("tightness", sev, 4), Some(1));
    }

    #[test]
    fn burden_per_rule_per_100_patient_weeks() {
        use Action::*;
        let alerts = [
            (Rule::Fever, true, Some(ContactedPatient)),
            (Rule::Fever, true, Some(NoAction)),
            (Rule::Fever, false, None),
            (Rule::MissedCheckIns, true, None),
        ];
        let (rules, all) = burden(alerts, 50.0);
        let fever = rules
            .iter()
            .find(|(r, _)| *r == Rule::Fever)
            .map(|(_, b)| *b);
        let fever = fever.expect("every rule has a row");
        assert_eq!(
            (
                fever.alerts,
                fever.resolved,
                fever.led_to_action,
                fever.no_action
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(fever.per_100_patient_weeks, Some(6.0));
        assert_eq!(fever.action_share(), Some(0.5));
        // A resolution that did not say what it led to counts in neither side of the share.
        let missed = rules
            .iter()
            .find(|(r, _)| *r == Rule::MissedCheckIns)
            .map(|(_, b)| *b);
        assert_eq!(missed.and_then(|b| b.action_share()), None);
        assert_eq!(rules.len(), RULES.len());
        assert_eq!((all.alerts, all.resolved, all.led_to_action), (4, 3, 1));
        assert_eq!(all.per_100_patient_weeks, Some(8.0));
        assert_eq!(burden([], 0.0).1.per_100_patient_weeks, None);
        assert_eq!(Action::parse("saw_patient"), Some(SawPatient));
        assert!(!NoAction.is_action());
    }
}
