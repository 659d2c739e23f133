//! Rules for protocols and treatment sessions: needle depth, series, and contraindication screening.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::codes::Contraindication;
use super::{Invalid, check_text};

/// Clinical needle depths run 0.25-2.5 mm; anything over 3 mm is a typo.
pub fn check_needle_depth(invalid: &mut Invalid, field: &str, depth_mm: f64) {
    invalid.check(
        depth_mm > 0.0 && depth_mm <= 3.0,
        field,
        "must be more than 0 and at most 3 mm",
    );
}

pub fn check_series(invalid: &mut Invalid, sessions_planned: i32, interval_days: i32) {
    invalid.check(
        (1..=20).contains(&sessions_planned),
        "sessions_planned",
        "must be from 1 to 20",
    );
    invalid.check(
        (0..=365).contains(&interval_days),
        "interval_days",
        "must be from 0 to 365",
    );
}

/// A treatment record is of a session that took place: not in the future, nor before records began.
pub fn check_performed_at(invalid: &mut Invalid, performed_at: DateTime<Utc>, now: DateTime<Utc>) {
    let earliest = Utc
        .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    invalid.check(
        performed_at >= earliest && performed_at <= now + super::check_in::CLOCK_SKEW,
        "performed_at",
        "must be in the past, and after 2000",
    );
}

/// The screening before a treatment: every contraindication answered, and a reason given to treat
/// despite one answered `true`.
pub fn check_screening(
    invalid: &mut Invalid,
    answers: &BTreeMap<Contraindication, bool>,
    override_reason: Option<&str>,
) {
    for code in Contraindication::ALL {
        if !answers.contains_key(code) {
            invalid.add(
                format!("contraindications.{}", code.as_str()),
                "must be answered",
            );
        }
    }
    let flagged = answers.values().any(|&v| v);
    let has_reason = override_reason.is_some_and(|r| !super::text::is_blank(r));
    invalid.check(
        !flagged || has_reason,
        "override_reason",
        "is required when a contraindication is answered true",
    );
    check_text(invalid, "override_reason", override_reason, 2000);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(answer: bool) -> BTreeMap<Contraindication, bool> {
        Contraindication::ALL.iter().map(|&c| (c, answer)).collect()
    }

    #[test]
    fn a_flagged_screening_needs_a_reason() {
        let mut inv = Invalid::default();
        check_screening(&mut inv, &all(false), None);
        assert!(inv.0.is_empty());
        check_screening(&mut inv, &all(true), Some("  "));
        assert_eq!(
            inv.0
                .iter()
                .filter(|e| e.field == "override_reason")
                .count(),
            2
        );
        let mut inv = Invalid::default();
        check_screening(&mut inv, &all(true), Some("discussed with the patient"));
        assert!(inv.0.is_empty());
    }

    #[test]
    fn every_contraindication_must_be_answered() {
        let mut inv = Invalid::default();
        check_screening(
            &mut inv,
            &BTreeMap::from([(Contraindication::Pregnancy, false)]),
            None,
        );
        assert_eq!(inv.0.len(), 7);
        assert_eq!(inv.0[0].field, "contraindications.active_acne");
    }

    #[test]
    fn treatments_are_in_the_past_and_after_2000() {
        let now = Utc::now();
        let mut inv = Invalid::default();
        check_performed_at(&mut inv, now, now);
        assert!(inv.0.is_empty());
        check_performed_at(&mut inv, now + chrono::Duration::hours(1), now);
        check_performed_at(
            &mut inv,
            Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap(),
            now,
        );
        assert_eq!(inv.0.len(), 2);
    }
}
