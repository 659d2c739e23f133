//! The assembly of the views from the store's cohorts and series: daily statistics, times to
//! resolution, one symptom of a patient against the cohort, and today for each treatment.

use chrono::Days;
use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::db;
use crate::domain::outcomes::complication_rates;
use crate::domain::recovery::{
    Course, DayScore, Histogram, SurvivalPoint, adherence, course, first_day_at_or_below,
    kaplan_meier, slower_now, slower_until, usual_resolution_day,
};
use crate::read_model::{Cohort, Store, SymptomCohort, TreatmentSeries};

pub(super) fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

pub(super) fn day_stats(day: usize, h: &Histogram) -> DayStats {
    DayStats {
        day: day as u16,
        n: h.n(),
        mean: h.mean(),
        median: h.percentile(50),
        p75: h.percentile(75),
        p90: h.percentile(90),
        moderate_or_worse: h.share_at_least(2),
    }
}

pub(super) fn resolution(s: &SymptomCohort, last_day: u16) -> (Resolution, Vec<SurvivalPoint>) {
    let curve = kaplan_meier(&s.events, last_day);
    let unresolved = |p: &SurvivalPoint| p.unresolved;
    let r = Resolution {
        affected: s.affected,
        resolved: s.events.total_resolved(),
        censored: s.events.total_censored(),
        median_day: first_day_at_or_below(&curve, 0.5, unresolved),
        p75_day: first_day_at_or_below(&curve, 0.25, unresolved),
        p90_day: first_day_at_or_below(&curve, 0.10, unresolved),
        curve: curve
            .iter()
            .map(|p| CurvePoint {
                day: p.day,
                unresolved: p.unresolved,
                ci_low: p.ci_low,
                ci_high: p.ci_high,
            })
            .collect(),
    };
    (r, curve)
}

/// The recovery view of a cohort, as the API shows it.
pub fn protocol_view(
    protocol_id: Uuid,
    cohort: &Cohort,
    adherence: (u64, u64),
    last_day: u16,
    complications: &[(String, i16)],
) -> ProtocolRecovery {
    ProtocolRecovery {
        complications: complication_rates(complications, cohort.treatments)
            .into_iter()
            .map(
                |(term, grade, count, per_100_treatments)| ComplicationRate {
                    term,
                    grade,
                    count,
                    per_100_treatments,
                },
            )
            .collect(),
        protocol_id,
        treatments: cohort.treatments,
        adherence: (adherence.1 > 0).then(|| adherence.0 as f64 / adherence.1 as f64),
        symptoms: cohort
            .symptoms
            .iter()
            .map(|s| SymptomRecovery {
                code: s.code.clone(),
                incidence: share(s.affected, cohort.treatments),
                days: s
                    .days
                    .iter()
                    .enumerate()
                    .map(|(d, h)| day_stats(d, h))
                    .collect(),
                resolution: resolution(s, last_day).0,
            })
            .collect(),
    }
}

/// The last scheduled day of a protocol: the views run from day 0 to it.
pub fn last_day(protocol: &db::protocols::Protocol) -> u16 {
    protocol
        .check_in_days
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .clamp(0, 365) as u16
}

pub(super) fn schedule(protocol: &db::protocols::Protocol) -> Vec<i32> {
    protocol.check_in_days.iter().flatten().copied().collect()
}

/// The cohort's median and 90th percentile on a day, if enough treatments reported it.
pub(super) fn cohort_on(s: &SymptomCohort, day: usize) -> (Option<u8>, Option<u8>) {
    s.days.get(day).map_or((None, None), |h| {
        (h.peer_percentile(50), h.peer_percentile(90))
    })
}

/// One symptom of one treatment against its cohort, up to the protocol's `last_day`.
pub fn patient_symptom(
    code: &str,
    series: &[DayScore],
    cohort: Option<&SymptomCohort>,
    last_day: u16,
    in_follow_up: bool,
) -> Option<PatientSymptom> {
    let days: Vec<PatientDay> = series
        .iter()
        .enumerate()
        .filter_map(|(day, score)| {
            let (cohort_median, cohort_p90) =
                cohort.map(|c| cohort_on(c, day)).unwrap_or((None, None));
            score.get().map(|score| PatientDay {
                day: day as u16,
                score,
                cohort_median,
                cohort_p90,
            })
        })
        .collect();
    if days.is_empty() {
        return None;
    }
    let (resolved_day, censored_at) = match course(series) {
        Course::Resolved(d) => (Some(d), None),
        Course::Censored(d) => (None, Some(d)),
        Course::Unaffected => (None, None),
    };
    let usual = cohort.and_then(|c| usual_resolution_day(&c.events));
    let band = cohort.map_or(vec![], |c| {
        (0..=last_day)
            .filter_map(|day| match cohort_on(c, usize::from(day)) {
                (Some(median), Some(p90)) => Some(CohortBand { day, median, p90 }),
                _ => None,
            })
            .collect()
    });
    Some(PatientSymptom {
        code: code.to_string(),
        usual_resolution_day: usual,
        slower_than_usual: in_follow_up && slower_now(series, usual),
        slower_until_day: slower_until(series, usual),
        cohort: band,
        days,
        resolved_day,
        censored_at,
    })
}

/// Today for one treatment, if its schedule (`plan`, days 0 to `last`) still runs: the one
/// definition of "in follow-up", "due today" and "slower than usual" (against the protocol's
/// `usual` resolution day of each of `codes`), for the dashboard and the patient list alike.
pub(super) fn today_of(
    ts: &TreatmentSeries,
    plan: &[i32],
    last: u16,
    codes: &[String],
    usual: &[Option<u16>],
    today: NaiveDate,
) -> Option<TreatmentToday> {
    let t = ts.treatment;
    let day = (today - t.performed_on).num_days();
    if !(0..=i64::from(last)).contains(&day) {
        return None;
    }
    Some(TreatmentToday {
        treatment_id: t.id,
        patient_id: t.patient_id,
        protocol_id: t.protocol_id,
        day,
        due_today: plan.contains(&(day as i32)),
        checked_in_today: t.checked_in(day as u16),
        slower: codes
            .iter()
            .enumerate()
            .filter(|(i, _)| slower_now(ts.series[*i], usual[*i]))
            .map(|(_, code)| code.clone())
            .collect(),
    })
}

/// One treatment as the dashboard and the patient list see it on one day: its adherence over the
/// week to that day (done, due) and, if its schedule still runs, today.
pub(super) type Recent = ((u32, u32), Option<TreatmentToday>);

/// Every treatment of protocol `p` whose schedule reaches into the seven days to `today` (the
/// clinic's date), against `codes`, handed to `read` in no particular order. Kept between requests
/// (`Store::with_window`): only treatments changed since the last request are worked out again.
/// The store must be fresh.
pub(super) fn recent<R>(
    store: &Store,
    p: &db::protocols::Protocol,
    codes: &[String],
    today: NaiveDate,
    read: impl FnOnce(&mut dyn Iterator<Item = &Recent>) -> R,
) -> R {
    let (last, plan) = (last_day(p), schedule(p));
    let usual = store.usual_resolution_days(p.id.uuid(), codes);
    let week_start = today.checked_sub_days(Days::new(6));
    let earliest = week_start
        .and_then(|w| w.checked_sub_days(Days::new(u64::from(last))))
        .unwrap_or(today);
    let key = (today, plan.clone(), usual.clone(), codes.to_vec());
    let make = |ts: &TreatmentSeries<'_>| {
        let t = ts.treatment;
        let checked_in = |d| t.checked_in(d);
        let week = adherence(t.performed_on, &plan, checked_in, today, week_start);
        (week, today_of(ts, &plan, last, codes, &usual, today))
    };
    store.with_window(p.id.uuid(), (earliest, today), codes, key, make, read)
}

/// Every treatment of `protocols` (one clinic's) whose schedule still runs on `today`, the
/// clinic's date, against the clinic's symptom `codes`, in no particular order. The store must be
/// fresh.
pub fn treatments_today(
    store: &Store,
    protocols: &[db::protocols::Protocol],
    codes: &[String],
    today: NaiveDate,
) -> Vec<TreatmentToday> {
    let mut all = vec![];
    for p in protocols {
        recent(store, p, codes, today, |items| {
            all.extend(items.filter_map(|(_, now)| now.clone()));
        });
    }
    all
}
