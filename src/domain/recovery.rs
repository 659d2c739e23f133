//! Recovery, measured (domain.md): daily scores, resolution and censoring, nearest-rank percentiles,
//! Kaplan-Meier time to resolution with Greenwood's 95% band, incidence and adherence.

/// A cohort's figures for a day are compared against only once this many treatments reported it.
pub const MIN_COHORT: u32 = 20;

/// Daily scores run 0-4 (presence items 0-1), so a day's values are fully described by how many
/// treatments gave each score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Histogram(pub [u32; 5]);

impl Histogram {
    pub fn add(&mut self, score: u8) {
        self.0[usize::from(score.min(4))] += 1;
    }

    pub fn remove(&mut self, score: u8) {
        let count = &mut self.0[usize::from(score.min(4))];
        *count = count.saturating_sub(1);
    }

    pub fn n(&self) -> u32 {
        self.0.iter().sum()
    }

    pub fn mean(&self) -> Option<f64> {
        let n = self.n();
        let sum: u32 = self.0.iter().enumerate().map(|(s, c)| s as u32 * c).sum();
        (n > 0).then(|| f64::from(sum) / f64::from(n))
    }

    /// Nearest rank: the smallest score s such that at least p% of the values are <= s.
    pub fn percentile(&self, p: u32) -> Option<u8> {
        let n = u64::from(self.n());
        let mut at_or_below = 0u64;
        for (score, &count) in self.0.iter().enumerate() {
            at_or_below += u64::from(count);
            if n > 0 && at_or_below * 100 >= u64::from(p) * n {
                return Some(score as u8);
            }
        }
        None
    }

    /// The `p`-th percentile as a peer figure: only once `MIN_COHORT` treatments reported the day.
    pub fn peer_percentile(&self, p: u32) -> Option<u8> {
        if self.n() >= MIN_COHORT {
            self.percentile(p)
        } else {
            None
        }
    }

    /// The share of values at `score` or above.
    pub fn share_at_least(&self, score: u8) -> Option<f64> {
        let n = self.n();
        let above: u32 = self.0[usize::from(score.min(4))..].iter().sum();
        (n > 0).then(|| f64::from(above) / f64::from(n))
    }
}

/// What became of one symptom after one treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Course {
    /// Never reported above 0 (or never reported): not counted in time to resolution.
    Unaffected,
    /// The first reported day after the last day it was reported above 0.
    Resolved(u16),
    /// Still above 0 at its last report, on this day: "not resolved by day N".
    Censored(u16),
}

/// A symptom's worst score on one day, or none reported that day, in one byte: `Option<u8>` takes
/// two, and the read model holds one for each symptom and day of every treatment (issue 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayScore(u8);

impl DayScore {
    /// Not reported that day.
    pub const NONE: DayScore = DayScore(u8::MAX);

    /// A score (0-4; none reaches the marker).
    pub fn new(score: u8) -> DayScore {
        DayScore(score.min(u8::MAX - 1))
    }

    pub fn get(self) -> Option<u8> {
        (self != DayScore::NONE).then_some(self.0)
    }
}

impl From<Option<u8>> for DayScore {
    fn from(score: Option<u8>) -> DayScore {
        score.map_or(DayScore::NONE, DayScore::new)
    }
}

/// The course of a symptom from its daily scores, indexed by day.
pub fn course(daily: &[DayScore]) -> Course {
    let Some(last_positive) = daily.iter().rposition(|s| s.get().is_some_and(|s| s > 0)) else {
        return Course::Unaffected;
    };
    match daily[last_positive + 1..]
        .iter()
        .position(|s| s.get().is_some())
    {
        Some(offset) => Course::Resolved((last_positive + 1 + offset) as u16),
        None => Course::Censored(last_positive as u16),
    }
}

/// Resolutions and censorings per day, enough for Kaplan-Meier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Events {
    pub resolved: Vec<u32>,
    pub censored: Vec<u32>,
}

impl Events {
    pub fn add(&mut self, course: Course) {
        if let Some(count) = self.count(course) {
            *count += 1;
        }
    }

    pub fn remove(&mut self, course: Course) {
        if let Some(count) = self.count(course) {
            *count = count.saturating_sub(1);
        }
    }

    fn count(&mut self, course: Course) -> Option<&mut u32> {
        let (resolved, day) = match course {
            Course::Unaffected => return None,
            Course::Resolved(d) => (true, usize::from(d)),
            Course::Censored(d) => (false, usize::from(d)),
        };
        if self.resolved.len() <= day {
            self.resolved.resize(day + 1, 0);
            self.censored.resize(day + 1, 0);
        }
        Some(if resolved {
            &mut self.resolved[day]
        } else {
            &mut self.censored[day]
        })
    }

    pub fn total_resolved(&self) -> u32 {
        self.resolved.iter().sum()
    }

    pub fn total_censored(&self) -> u32 {
        self.censored.iter().sum()
    }
}

/// One day of a Kaplan-Meier curve: the share still unresolved, and its 95% band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalPoint {
    pub day: u16,
    pub unresolved: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The Kaplan-Meier product-limit estimate of the share still unresolved after each day 0..=last_day.
/// Resolutions on a day are counted before that day's censorings. The band is S ± 1.96·SE with
/// Greenwood's variance, clipped to [0, 1].
pub fn kaplan_meier(events: &Events, last_day: u16) -> Vec<SurvivalPoint> {
    let mut at_risk: u32 = events.total_resolved() + events.total_censored();
    let mut survival = 1.0f64;
    let mut greenwood = 0.0f64;
    let mut curve = Vec::with_capacity(usize::from(last_day) + 1);
    for day in 0..=last_day {
        let i = usize::from(day);
        let d = events.resolved.get(i).copied().unwrap_or(0);
        let c = events.censored.get(i).copied().unwrap_or(0);
        if d > 0 && at_risk > 0 {
            survival *= 1.0 - f64::from(d) / f64::from(at_risk);
            if at_risk > d {
                greenwood += f64::from(d) / (f64::from(at_risk) * f64::from(at_risk - d));
            }
        }
        let se = survival * greenwood.sqrt();
        curve.push(SurvivalPoint {
            day,
            unresolved: survival,
            ci_low: (survival - 1.96 * se).clamp(0.0, 1.0),
            ci_high: (survival + 1.96 * se).clamp(0.0, 1.0),
        });
        at_risk -= d + c;
    }
    curve
}

/// The first day on which the curve is at or below `level`: with 0.5, the median resolution day.
pub fn first_day_at_or_below(
    curve: &[SurvivalPoint],
    level: f64,
    pick: fn(&SurvivalPoint) -> f64,
) -> Option<u16> {
    curve
        .iter()
        .find(|p| pick(p) <= level + 1e-12)
        .map(|p| p.day)
}

/// The median resolution day with its 95% interval, read off the curve and its band.
pub fn median_with_interval(curve: &[SurvivalPoint]) -> (Option<u16>, Option<u16>, Option<u16>) {
    (
        first_day_at_or_below(curve, 0.5, |p| p.unresolved),
        first_day_at_or_below(curve, 0.5, |p| p.ci_low),
        first_day_at_or_below(curve, 0.5, |p| p.ci_high),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(counts: [u32; 5]) -> Histogram {
        Histogram(counts)
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        // Values 0, 1, 1, 2, 2, 2, 3, 4 (n = 8).
        let day = h([1, 2, 3, 1, 1]);
        assert_eq!(day.percentile(50), Some(2)); // 4th value: ranks 1-3 are <= 1, rank 4 is 2.
        assert_eq!(day.percentile(75), Some(2)); // 6th value.
        assert_eq!(day.percentile(90), Some(4)); // ceil(7.2) = 8th value.
        assert_eq!(day.percentile(25), Some(1)); // 2nd value.
        assert_eq!(day.mean(), Some(15.0 / 8.0));
        assert_eq!(day.share_at_least(2), Some(5.0 / 8.0));
        assert_eq!(Histogram::default().percentile(50), None);
        assert_eq!(Histogram::default().mean(), None);
    }

    #[test]
    fn resolution_follows_the_last_positive_report() {
        let s = |v: &[i8]| {
            v.iter()
                .map(|&x| DayScore::from((x >= 0).then_some(x as u8)))
                .collect::<Vec<_>>()
        };
        // The examples of domain.md.
        assert_eq!(course(&s(&[1, 2, 0, 0])), Course::Resolved(2));
        assert_eq!(course(&s(&[1, 0, 1, 0])), Course::Resolved(3));
        // A gap in reporting: resolved on the next reported day.
        assert_eq!(course(&s(&[2, 1, -1, -1, 0])), Course::Resolved(4));
        assert_eq!(course(&s(&[2, 1, -1])), Course::Censored(1));
        assert_eq!(course(&s(&[0, 0, 0])), Course::Unaffected);
        assert_eq!(course(&s(&[])), Course::Unaffected);
        assert_eq!(course(&s(&[-1, 3])), Course::Censored(1));
    }

    /// Worked on paper. Ten affected treatments: resolved on days 2, 2, 3, 3, 3, 5; censored on
    /// days 3, 4, 6, 6 (so on day 3 three resolve and one is censored: the resolutions count first).
    ///
    /// day | at risk | resolved | censored | S                          | Greenwood sum
    ///  2  |   10    |    2     |    0     | 8/10 = 0.8                 | 2/(10·8) = 0.025
    ///  3  |    8    |    3     |    1     | 0.8 · 5/8 = 0.5            | + 3/(8·5) = 0.1
    ///  4  |    4    |    0     |    1     | 0.5                        | 0.1
    ///  5  |    3    |    1     |    0     | 0.5 · 2/3 = 0.3333         | + 1/(3·2) = 0.266667
    ///  6  |    2    |    0     |    2     | 0.3333                     |
    /// SE(day 3) = 0.5 · √0.1 = 0.158114; band 0.5 ± 0.309903 = [0.190097, 0.809903].
    /// SE(day 5) = 0.333333 · √0.266667 = 0.172133; band [0, 0.670714].
    #[test]
    fn kaplan_meier_with_ties_and_censoring() {
        let mut events = Events::default();
        for day in [2, 2, 3, 3, 3, 5] {
            events.add(Course::Resolved(day));
        }
        for day in [3, 4, 6, 6] {
            events.add(Course::Censored(day));
        }
        let curve = kaplan_meier(&events, 7);
        let s: Vec<f64> = curve
            .iter()
            .map(|p| (p.unresolved * 1e6).round() / 1e6)
            .collect();
        assert_eq!(s, [1.0, 1.0, 0.8, 0.5, 0.5, 0.333333, 0.333333, 0.333333]);
        assert!((curve[3].ci_low - 0.190097).abs() < 1e-6);
        assert!((curve[3].ci_high - 0.809903).abs() < 1e-6);
        assert_eq!(curve[5].ci_low, 0.0);
        assert!((curve[5].ci_high - 0.670714).abs() < 1e-6);
        assert_eq!((curve[0].ci_low, curve[0].ci_high), (1.0, 1.0));
        // The median is the first day at or below one half: day 3. The band crosses 0.5 on day 3
        // (lower) and never (upper, which stays at 0.67 from day 5).
        assert_eq!(median_with_interval(&curve), (Some(3), Some(3), None));
        assert_eq!(first_day_at_or_below(&curve, 0.25, |p| p.unresolved), None);
    }

    #[test]
    fn everyone_resolving_takes_the_curve_to_zero() {
        let mut events = Events::default();
        events.add(Course::Resolved(1));
        events.add(Course::Resolved(1));
        let curve = kaplan_meier(&events, 2);
        assert_eq!(curve[1].unresolved, 0.0);
        assert_eq!((curve[2].ci_low, curve[2].ci_high), (0.0, 0.0));
        assert_eq!(kaplan_meier(&Events::default(), 1)[1].unresolved, 1.0);
    }
}

/// Adherence: the share of scheduled check-in days on which the patient checked in. A scheduled day
/// counts once it has passed, or once it is done (so a patient isn't behind on a day that hasn't
/// ended). `window_start` limits the days to those on or after a date. Returns (done, due).
pub fn adherence(
    performed_on: chrono::NaiveDate,
    schedule: &[i32],
    checked_in: impl Fn(u16) -> bool,
    today: chrono::NaiveDate,
    window_start: Option<chrono::NaiveDate>,
) -> (u32, u32) {
    let (mut done, mut due) = (0, 0);
    for &day in schedule {
        let Ok(day) = u16::try_from(day) else {
            continue;
        };
        let Some(date) = performed_on.checked_add_days(chrono::Days::new(u64::from(day))) else {
            continue;
        };
        if window_start.is_some_and(|start| date < start) {
            continue;
        }
        let was_done = checked_in(day);
        if date < today || was_done {
            due += 1;
            done += u32::from(was_done);
        }
    }
    (done, due)
}

#[cfg(test)]
mod adherence_tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_day_counts_once_passed_or_done() {
        let treated = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(); // day 3
        let schedule = [0, 1, 2, 3, 4, 7];
        // Checked in on days 0 and 2: days 0-2 are due, day 3 not yet.
        assert_eq!(
            adherence(treated, &schedule, |d| d == 0 || d == 2, today, None),
            (2, 3)
        );
        // Checking in today (day 3) makes it due and done.
        assert_eq!(
            adherence(treated, &schedule, |d| [0, 2, 3].contains(&d), today, None),
            (3, 4)
        );
        // Over the last two days only (days 2 and 3).
        let window = NaiveDate::from_ymd_opt(2026, 11, 3);
        assert_eq!(
            adherence(treated, &schedule, |d| d == 0 || d == 2, today, window),
            (1, 1)
        );
    }
}

#[cfg(test)]
mod removal_tests {
    use super::*;

    #[test]
    fn removing_undoes_adding() {
        let mut h = Histogram::default();
        h.add(3);
        h.add(1);
        h.remove(3);
        assert_eq!(h, Histogram([0, 1, 0, 0, 0]));
        let mut e = Events::default();
        e.add(Course::Resolved(4));
        e.add(Course::Censored(2));
        e.remove(Course::Resolved(4));
        e.remove(Course::Unaffected);
        assert_eq!((e.total_resolved(), e.total_censored()), (0, 1));
    }
}

/// The protocol's usual resolution day for a symptom: the first day by which 90% of the treatments
/// that had it had resolved (Kaplan-Meier, so treatments still in follow-up count for the days they
/// were seen), once `MIN_COHORT` of them had it. None while the cohort is smaller, or while its curve
/// has not come down to 10%.
pub fn usual_resolution_day(events: &Events) -> Option<u16> {
    if events.total_resolved() + events.total_censored() < MIN_COHORT {
        return None;
    }
    let last = events.resolved.len().max(events.censored.len());
    let curve = kaplan_meier(events, u16::try_from(last).unwrap_or(u16::MAX));
    first_day_at_or_below(&curve, 0.1, |p| p.unresolved)
}

/// Slower than usual (`slower_than_peers`, domain.md): the symptom still rated 1 or more on a day
/// later than its usual resolution day. Comparing each day with that day's 90th percentile instead
/// would flag almost every patient on some day and symptom.
pub fn slower_than_usual_on(day: u16, score: u8, usual: Option<u16>) -> bool {
    usual.is_some_and(|usual| score >= 1 && day > usual)
}

/// The last day of a treatment's daily scores that was slower than usual, if any: the history
/// ("was slower than usual until day 14") once the symptom resolved or follow-up ended.
pub fn slower_until(series: &[DayScore], usual: Option<u16>) -> Option<u16> {
    (0..series.len()).rev().find_map(|day| {
        let day = u16::try_from(day).ok()?;
        let score = series[usize::from(day)].get()?;
        slower_than_usual_on(day, score, usual).then_some(day)
    })
}

/// Slower than usual now, the one meaning the alert, the dashboard, the patient list and the
/// patient view share: some day was slower than usual and the symptom has not resolved since. A
/// resolved symptom is never slower now; whether follow-up still runs is the caller's to say.
pub fn slower_now(series: &[DayScore], usual: Option<u16>) -> bool {
    slower_until(series, usual).is_some() && !matches!(course(series), Course::Resolved(_))
}

#[cfg(test)]
mod peer_tests {
    use super::*;

    fn cohort(resolved: &[(u16, u32)], censored: &[(u16, u32)]) -> Events {
        let mut e = Events::default();
        for &(day, n) in resolved {
            (0..n).for_each(|_| e.add(Course::Resolved(day)));
        }
        for &(day, n) in censored {
            (0..n).for_each(|_| e.add(Course::Censored(day)));
        }
        e
    }

    #[test]
    fn peers_count_from_twenty_treatments() {
        let small = Histogram([10, 5, 3, 1, 0]);
        assert_eq!(small.peer_percentile(90), None);
        let enough = Histogram([10, 5, 3, 1, 1]);
        assert_eq!(enough.peer_percentile(90), Some(2));
        // 19 treatments had the symptom: too few to say what is usual; 20 are enough.
        assert_eq!(usual_resolution_day(&cohort(&[(2, 19)], &[])), None);
        assert_eq!(usual_resolution_day(&cohort(&[(2, 20)], &[])), Some(2));
    }

    #[test]
    fn the_usual_day_is_where_nine_in_ten_had_resolved() {
        // 20 resolved by day 2, 4 on day 3, 1 on day 6: unresolved after day 2 is 5/25 = 0.2, after
        // day 3 it is 1/25 = 0.04, so day 3.
        let e = cohort(&[(2, 20), (3, 4), (6, 1)], &[]);
        assert_eq!(usual_resolution_day(&e), Some(3));
        // Treatments still in follow-up are censored, not counted as unresolved: 10 resolved on day
        // 1 and 15 seen only to day 0 still leave the curve at 0 after day 1.
        assert_eq!(
            usual_resolution_day(&cohort(&[(1, 10)], &[(0, 15)])),
            Some(1)
        );
        // A curve that stays above 10% (many still unresolved at their last report) says nothing.
        assert_eq!(usual_resolution_day(&cohort(&[(2, 15)], &[(4, 10)])), None);
    }

    #[test]
    fn slower_than_usual_is_still_present_after_the_usual_day() {
        // Usual resolution on day 3: rated 1 on day 4 is slower than usual; rated 1 on day 3, or 0
        // on day 4, is not; nor is a score above every other patient's on day 1.
        assert!(slower_than_usual_on(4, 1, Some(3)));
        assert!(!slower_than_usual_on(3, 1, Some(3)));
        assert!(!slower_than_usual_on(4, 0, Some(3)));
        assert!(!slower_than_usual_on(1, 4, Some(3)));
        assert!(!slower_than_usual_on(9, 4, None));
    }

    #[test]
    fn slower_now_until_the_symptom_resolves() {
        // Usual resolution on day 3: still 1 on day 4 is slower now; a 0 on day 5 makes it history
        // ("slower until day 4"), and a symptom back on day 6 is slower again.
        let days = |v: &[Option<u8>]| v.iter().map(|&s| DayScore::from(s)).collect::<Vec<_>>();
        let still = days(&[Some(3), None, Some(1), None, Some(1)]);
        assert!(slower_now(&still, Some(3)));
        assert_eq!(slower_until(&still, Some(3)), Some(4));
        let resolved = days(&[Some(3), None, Some(1), None, Some(1), Some(0)]);
        assert!(!slower_now(&resolved, Some(3)));
        assert_eq!(slower_until(&resolved, Some(3)), Some(4));
        let back = days(&[Some(3), None, Some(1), None, Some(1), Some(0), Some(1)]);
        assert!(slower_now(&back, Some(3)));
        // Resolved on the usual day (the nearest case) was never slower.
        let usual = days(&[Some(4), Some(4), Some(2), Some(1), Some(0)]);
        assert!(!slower_now(&usual, Some(3)));
        assert_eq!(slower_until(&usual, Some(3)), None);
        // A later usual day (the cohort grew) withdraws it.
        assert!(!slower_now(&still, Some(4)));
    }
}
