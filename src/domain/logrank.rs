//! The log-rank test: whether two cohorts' times to resolution differ, over the same resolution
//! events and censorings the Kaplan-Meier estimate uses.

use super::recovery::Events;

/// A log-rank test of two groups: the chi-square statistic (1 degree of freedom) and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    pub chi_square: f64,
    pub p_value: f64,
}

/// The log-rank test of `a` against `b`. On each day with a resolution, the treatments at risk are
/// those neither resolved nor censored on an earlier day (a day's resolutions count before its
/// censorings, as in Kaplan-Meier). None when either group has no resolution, or when the variance
/// is 0 (no day on which the groups could have differed).
pub fn log_rank(a: &Events, b: &Events) -> Option<LogRank> {
    if a.total_resolved() == 0 || b.total_resolved() == 0 {
        return None;
    }
    let count = |v: &[u32], i: usize| f64::from(v.get(i).copied().unwrap_or(0));
    let mut n1 = f64::from(a.total_resolved() + a.total_censored());
    let mut n2 = f64::from(b.total_resolved() + b.total_censored());
    let (mut observed, mut expected, mut variance) = (0.0, 0.0, 0.0);
    let days = a.resolved.len().max(b.resolved.len());
    for day in 0..days {
        let (d1, d2) = (count(&a.resolved, day), count(&b.resolved, day));
        let (d, n) = (d1 + d2, n1 + n2);
        if d > 0.0 && n > 1.0 {
            observed += d1;
            expected += d * n1 / n;
            variance += n1 * n2 * d * (n - d) / (n * n * (n - 1.0));
        }
        n1 -= d1 + count(&a.censored, day);
        n2 -= d2 + count(&b.censored, day);
    }
    if variance <= 0.0 {
        return None;
    }
    let chi_square = (observed - expected).powi(2) / variance;
    Some(LogRank {
        chi_square,
        p_value: chi_square_1df_p(chi_square),
    })
}

/// The upper tail of chi-square with 1 degree of freedom: P(X >= x) = erfc(√(x/2)).
pub fn chi_square_1df_p(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    erfc((x / 2.0).sqrt()).clamp(0.0, 1.0)
}

/// The complementary error function, by Numerical Recipes' `erfcc` (Chebyshev fit, fractional
/// error below 1.2e-7 everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::recovery::Course;

    fn group(resolved: &[u16], censored: &[u16]) -> Events {
        let mut e = Events::default();
        resolved.iter().for_each(|&d| e.add(Course::Resolved(d)));
        censored.iter().for_each(|&d| e.add(Course::Censored(d)));
        e
    }

    /// Worked on paper. Group 1 resolves on days 1, 3, 3 and is censored on day 2; group 2 resolves
    /// on days 2 and 4 and is censored on days 3 and 5. On each day with a resolution (n = n1 + n2,
    /// d = d1 + d2):
    ///
    /// day | n1 | n2 | d1 | d2 | E1 = d·n1/n     | V = n1·n2·d·(n-d) / (n²·(n-1))
    ///  1  |  4 |  4 |  1 |  0 | 4/8 = 0.5       | 4·4·1·7 / (64·7)  = 0.25
    ///  2  |  3 |  4 |  0 |  1 | 3/7 = 0.428571  | 3·4·1·6 / (49·6)  = 0.244898
    ///  3  |  2 |  3 |  2 |  0 | 4/5 = 0.8       | 2·3·2·3 / (25·4)  = 0.36
    ///  4  |  0 |  2 |  0 |  1 | 0               | 0
    ///
    /// O1 = 3, E1 = 1.728571, O1 - E1 = 1.271429 (= 89/70); V = 0.854898;
    /// chi-square = 1.271429² / 0.854898 = 1.890905; p = erfc(√(1.890905/2)) = 0.169100.
    #[test]
    fn a_worked_example_with_ties_and_censoring() {
        let r = log_rank(&group(&[1, 3, 3], &[2]), &group(&[2, 4], &[3, 5])).unwrap();
        let v = 0.25 + 12.0 / 49.0 + 0.36;
        let chi = (89.0f64 / 70.0).powi(2) / v;
        assert!((r.chi_square - chi).abs() < 1e-12);
        assert!((r.chi_square - 1.890905).abs() < 1e-6);
        assert!((r.p_value - 0.169100).abs() < 1e-4);
        // The test is symmetric.
        let back = log_rank(&group(&[2, 4], &[3, 5]), &group(&[1, 3, 3], &[2])).unwrap();
        assert!((back.chi_square - r.chi_square).abs() < 1e-12);
    }

    #[test]
    fn identical_groups_do_not_differ() {
        let g = group(&[1, 2, 2, 5], &[3, 6]);
        let r = log_rank(&g, &g.clone()).unwrap();
        assert_eq!(r.chi_square, 0.0);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn no_resolution_in_a_group_is_no_test() {
        assert_eq!(log_rank(&group(&[1, 2], &[]), &group(&[], &[4])), None);
        assert_eq!(log_rank(&Events::default(), &group(&[1], &[])), None);
        // One treatment each, resolving the same day: nothing could have differed.
        assert_eq!(log_rank(&group(&[2], &[]), &group(&[2], &[])), None);
    }

    #[test]
    fn the_tail_of_chi_square_matches_its_tables() {
        // Critical values of chi-square with 1 df: 3.841459 at 0.05, 6.634897 at 0.01.
        assert!((chi_square_1df_p(3.841459) - 0.05).abs() < 1e-6);
        assert!((chi_square_1df_p(6.634897) - 0.01).abs() < 1e-6);
        assert_eq!(chi_square_1df_p(0.0), 1.0);
        assert!((erfc(1.0) - 0.157299207).abs() < 1e-7);
        assert!((erfc(-0.5) - 1.520499878).abs() < 1e-7);
    }
}
