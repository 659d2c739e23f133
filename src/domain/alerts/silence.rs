//! The rules of a silence: check-ins missed in a row, and silence after a bad report.

use std::collections::BTreeSet;

use crate::domain::symptoms::SymptomKind;

/// Whether a rating is trouble for `silent_after_bad_report`: a severity item rated 3 or more,
/// but not where domain.md calls it expected (anything on the treatment day, flaking and itching
/// while they peak on days 2-4).
pub fn rated_severe(day: i32, code: &str, kind: SymptomKind, score: i16) -> bool {
    let healing = matches!(code, "flaking" | "itching") && day <= 4;
    kind == SymptomKind::Severity && score >= 3 && day >= 1 && !healing
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
    use crate::domain::alerts::{Level, Rule};

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
}
