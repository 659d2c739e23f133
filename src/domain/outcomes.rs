//! Complications (CTCAE-graded adverse events) and outcomes weeks later (GAIS, satisfaction,
//! Goodman & Baron), and how a protocol's outcomes are summarized.

use chrono::NaiveDate;

use super::Invalid;

/// A complication: a term, CTCAE grade 1-5, an onset between the treatment and today.
pub fn check_adverse_event(
    invalid: &mut Invalid,
    term: Option<&str>,
    grade: Option<i16>,
    onset: Option<NaiveDate>,
    treated_on: NaiveDate,
    today: NaiveDate,
) {
    if let Some(term) = term {
        let n = super::text::trim(term).chars().count();
        invalid.check((1..=200).contains(&n), "term", "must be 1-200 characters");
    }
    if let Some(grade) = grade {
        invalid.check(
            (1..=5).contains(&grade),
            "grade",
            "must be a CTCAE grade from 1 to 5",
        );
    }
    if let Some(onset) = onset {
        invalid.check(
            onset >= treated_on && onset <= today,
            "onset_date",
            "must be between the treatment and today",
        );
    }
}

/// An outcome: GAIS -1..3, satisfaction 0-10, Goodman & Baron 1-4, assessed after the treatment.
pub fn check_outcome(
    invalid: &mut Invalid,
    gais: i16,
    satisfaction: i16,
    goodman_baron: Option<i16>,
    assessed_on: NaiveDate,
    treated_on: NaiveDate,
    today: NaiveDate,
) {
    invalid.check(
        (-1..=3).contains(&gais),
        "gais",
        "must be from -1 (worse) to 3 (very much improved)",
    );
    invalid.check(
        (0..=10).contains(&satisfaction),
        "satisfaction",
        "must be from 0 to 10",
    );
    if let Some(g) = goodman_baron {
        invalid.check(
            (1..=4).contains(&g),
            "goodman_baron",
            "must be a grade from 1 to 4",
        );
    }
    invalid.check(
        assessed_on >= treated_on && assessed_on <= today,
        "assessed_on",
        "must be between the treatment and today",
    );
}

/// The outcomes of one group (a session number and an assessor).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeSummary {
    pub n: u32,
    /// How many rated each GAIS value, -1 to 3.
    pub gais: [u32; 5],
    satisfaction_sum: u32,
}

impl OutcomeSummary {
    pub fn add(&mut self, gais: i16, satisfaction: i16) {
        self.n += 1;
        self.gais[(gais.clamp(-1, 3) + 1) as usize] += 1;
        self.satisfaction_sum += satisfaction.clamp(0, 10) as u32;
    }

    pub fn mean_satisfaction(&self) -> Option<f64> {
        (self.n > 0).then(|| f64::from(self.satisfaction_sum) / f64::from(self.n))
    }

    /// The share rated "improved" (GAIS 1) or better.
    pub fn improved_share(&self) -> Option<f64> {
        (self.n > 0)
            .then(|| f64::from(self.gais[2] + self.gais[3] + self.gais[4]) / f64::from(self.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_summaries() {
        let mut s = OutcomeSummary::default();
        for (g, sat) in [(-1, 2), (0, 5), (1, 7), (3, 10)] {
            s.add(g, sat);
        }
        assert_eq!(s.gais, [1, 1, 1, 0, 1]);
        assert_eq!(s.mean_satisfaction(), Some(6.0));
        assert_eq!(s.improved_share(), Some(0.5));
        assert_eq!(OutcomeSummary::default().improved_share(), None);
    }

    #[test]
    fn fields_are_checked() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let mut inv = Invalid::default();
        check_outcome(&mut inv, 4, 11, Some(5), d(1), d(2), d(20));
        assert_eq!(inv.0.len(), 4);
        let mut inv = Invalid::default();
        check_adverse_event(&mut inv, Some(" "), Some(6), Some(d(21)), d(2), d(20));
        assert_eq!(inv.0.len(), 3);
    }
}

/// Complications per 100 treatments, by term (compared without case) and CTCAE grade.
pub fn complication_rates(
    events: &[(String, i16)],
    treatments: u32,
) -> Vec<(String, i16, u32, f64)> {
    let mut counts: std::collections::BTreeMap<(String, i16), u32> =
        std::collections::BTreeMap::new();
    for (term, grade) in events {
        *counts
            .entry((term.trim().to_lowercase(), *grade))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((term, grade), n)| {
            let rate = if treatments == 0 {
                0.0
            } else {
                f64::from(n) * 100.0 / f64::from(treatments)
            };
            (term, grade, n, rate)
        })
        .collect()
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn rates_per_hundred_treatments() {
        let events = [
            ("PIH".to_string(), 2),
            ("pih ".to_string(), 2),
            ("Infection".to_string(), 3),
        ];
        let rates = complication_rates(&events, 40);
        assert_eq!(
            rates,
            [
                ("infection".to_string(), 3, 1, 2.5),
                ("pih".to_string(), 2, 2, 5.0)
            ]
        );
    }
}
