//! The rules one check-in meets: red flags, severity beyond what is expected, worsening, a slow
//! recovery, a late reaction, slower than peers; and the urgent ones as data for the app.

use std::collections::BTreeMap;

use super::{Level, Rule};
use crate::domain::recovery::slower_than_usual_on;
use crate::domain::symptoms::SymptomKind;

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
}
