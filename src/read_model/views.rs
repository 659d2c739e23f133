//! The recovery views, assembled from the read model and a few queries: a protocol's cohort curves
//! and time to resolution, protocols side by side, a patient's recovery against their cohort, and
//! the clinic at a glance. Their types are what the API serves.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Cohort, Filter, Of, Store, SymptomCohort, TreatmentSeries};
use crate::db::{self, Tenant};
use crate::domain::logrank::log_rank;
use crate::domain::outcomes::complication_rates;
use crate::domain::recovery::{
    Course, Histogram, SurvivalPoint, adherence, course, first_day_at_or_below, kaplan_meier,
    median_with_interval,
};
use crate::domain::schedule::local_date;
use crate::error::ApiError;

use crate::domain::recovery::{slower_now, slower_until, usual_resolution_day};

#[derive(Debug, Serialize, ToSchema)]
pub struct DayStats {
    /// Days since treatment.
    pub day: u16,
    /// Treatments that reported the symptom that day.
    pub n: u32,
    pub mean: Option<f64>,
    pub median: Option<u8>,
    pub p75: Option<u8>,
    pub p90: Option<u8>,
    /// The share at moderate (2) or worse.
    pub moderate_or_worse: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurvePoint {
    pub day: u16,
    /// Kaplan-Meier estimate of the share of affected treatments not yet resolved after this day.
    pub unresolved: f64,
    /// 95% band (Greenwood's variance).
    pub ci_low: f64,
    pub ci_high: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resolution {
    /// Treatments whose patient reported the symptom above 0.
    pub affected: u32,
    pub resolved: u32,
    /// Still above 0 at their last report.
    pub censored: u32,
    /// First day on which half (75%, 90%) have resolved; null when the curve never gets that low.
    pub median_day: Option<u16>,
    pub p75_day: Option<u16>,
    pub p90_day: Option<u16>,
    pub curve: Vec<CurvePoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SymptomRecovery {
    pub code: String,
    /// The share of treatments whose patient ever reported the symptom (score >= 1).
    pub incidence: Option<f64>,
    /// Day 0 to the protocol's last scheduled day.
    pub days: Vec<DayStats>,
    pub resolution: Resolution,
}

/// Complications of one term and grade in the cohort.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplicationRate {
    /// As recorded, compared without case.
    pub term: String,
    /// CTCAE grade 1-5.
    pub grade: i16,
    pub count: u32,
    pub per_100_treatments: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolRecovery {
    pub protocol_id: Uuid,
    /// Treatments in the view (after filters).
    pub treatments: u32,
    /// The share of scheduled check-in days, up to today, on which the patient checked in.
    pub adherence: Option<f64>,
    pub symptoms: Vec<SymptomRecovery>,
    /// Recorded complications per 100 treatments of the cohort, by term and grade.
    pub complications: Vec<ComplicationRate>,
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

fn day_stats(day: usize, h: &Histogram) -> DayStats {
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

fn resolution(s: &SymptomCohort, last_day: u16) -> (Resolution, Vec<SurvivalPoint>) {
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

/// The clinic's symptom codes, defaults first.
fn catalogue(conn: &mut PgConnection, tenant: Tenant) -> Result<Vec<String>, ApiError> {
    Ok(db::symptoms::catalogue(conn, tenant)?
        .into_iter()
        .map(|s| s.code)
        .collect())
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

fn schedule(protocol: &db::protocols::Protocol) -> Vec<i32> {
    protocol.check_in_days.iter().flatten().copied().collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedProtocol {
    pub protocol_id: Uuid,
    pub name: String,
    pub treatments: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SymptomComparison {
    pub protocol_id: Uuid,
    pub incidence: Option<f64>,
    pub median_day: Option<u16>,
    /// The 95% interval of the median resolution day, where the band crosses one half.
    pub median_ci_low: Option<u16>,
    pub median_ci_high: Option<u16>,
    pub moderate_or_worse_day_1: Option<f64>,
    pub moderate_or_worse_day_3: Option<f64>,
    pub moderate_or_worse_day_7: Option<f64>,
}

/// Whether two protocols' times to resolution differ: the log-rank test over the treatments that
/// had the symptom, resolved or censored as in the Kaplan-Meier curves.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogRankTest {
    /// The log-rank statistic, chi-square with 1 degree of freedom.
    pub chi_square: f64,
    /// The chance of a difference at least this large if the protocols did not differ.
    pub p_value: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedSymptom {
    pub code: String,
    /// In the order of `ids`.
    pub protocols: Vec<SymptomComparison>,
    /// The log-rank test of the two protocols' times to resolution; null when more than two are
    /// compared or either has no resolution of the symptom.
    pub log_rank: Option<LogRankTest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub protocols: Vec<ComparedProtocol>,
    pub symptoms: Vec<ComparedSymptom>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientDay {
    pub day: u16,
    /// The worst score reported that day.
    pub score: u8,
    /// The protocol cohort's median and 90th percentile that day, once 20 treatments reported it.
    pub cohort_median: Option<u8>,
    pub cohort_p90: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientSymptom {
    pub code: String,
    /// The days the symptom was reported.
    pub days: Vec<PatientDay>,
    pub resolved_day: Option<u16>,
    /// The last day it was reported, still above 0 ("not resolved by day N").
    pub censored_at: Option<u16>,
    /// The day by which 90% of the protocol's patients had resolved this symptom (Kaplan-Meier),
    /// once 20 of them had it.
    pub usual_resolution_day: Option<u16>,
    /// Slower than usual now: in follow-up, rated 1 or more on a day after
    /// `usual_resolution_day` and not resolved since. The meaning of the `slower_than_peers`
    /// alert, the dashboard's and the patient list's "slower than usual".
    pub slower_than_usual: bool,
    /// The last day the symptom was slower than usual, now or in the past ("was slower than usual
    /// until day 14" once it resolved or follow-up ended); None when it never was.
    pub slower_until_day: Option<u16>,
    /// The cohort's median and 90th percentile on every day from 0 to the protocol's last
    /// check-in day that 20 or more of its treatments reported, whether or not this patient did.
    pub cohort: Vec<CohortBand>,
}

/// The cohort on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortBand {
    pub day: u16,
    pub median: u8,
    pub p90: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientTreatmentRecovery {
    pub treatment_id: Uuid,
    pub protocol_id: Uuid,
    pub performed_at: DateTime<Utc>,
    /// The treatment's check-in schedule still runs today (the clinic's date).
    pub in_follow_up: bool,
    /// The symptoms the patient reported after this treatment.
    pub symptoms: Vec<PatientSymptom>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientRecovery {
    pub patient_id: Uuid,
    /// Newest treatment first.
    pub treatments: Vec<PatientTreatmentRecovery>,
}

/// The cohort's median and 90th percentile on a day, if enough treatments reported it.
fn cohort_on(s: &SymptomCohort, day: usize) -> (Option<u8>, Option<u8>) {
    s.days.get(day).map_or((None, None), |h| {
        (h.peer_percentile(50), h.peer_percentile(90))
    })
}

/// One symptom of one treatment against its cohort, up to the protocol's `last_day`.
pub fn patient_symptom(
    code: &str,
    series: &[Option<u8>],
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
            score.map(|score| PatientDay {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct SlowRecovery {
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    pub protocol_id: Uuid,
    /// Days since the treatment, today.
    pub day: i64,
    /// The symptoms still present after their usual resolution day.
    pub symptoms: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// Treatments whose check-in schedule is still running today.
    pub active_treatments: u32,
    /// Check-ins recorded today, clinic time. An answer from an earlier day that a phone sends
    /// today (after being offline) counts for its own day.
    pub check_ins_today: i64,
    /// Treatments with a check-in scheduled today.
    pub due_today: u32,
    /// Of those, how many have checked in today.
    pub due_today_checked_in: u32,
    /// Adherence over the last 7 days (today counted once done); null when nothing was due.
    pub adherence_7d: Option<f64>,
    /// Active treatments whose recovery is slower than their cohort's.
    pub slower_than_usual: Vec<SlowRecovery>,
}

/// A protocol's recovery over its treatments that pass `filter`.
pub fn protocol_recovery(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    id: Uuid,
    filter: &Filter,
) -> Result<ProtocolRecovery, ApiError> {
    let protocol = db::protocols::get(conn, tenant, id)?;
    let codes = catalogue(conn, tenant)?;
    store.refresh(conn)?;
    let last = last_day(&protocol);
    let cohort = store.cohort(id, &codes, last, filter);
    let adherence = store.adherence(id, &schedule(&protocol), filter);
    let mut events = db::adverse_events::of_protocol(conn, tenant, id)?;
    if *filter != Filter::default() {
        let cohort_ids = store.matching(id, filter);
        events.retain(|(treatment, _, _)| cohort_ids.contains(treatment));
    }
    let events: Vec<(String, i16)> = events
        .into_iter()
        .map(|(_, term, grade)| (term, grade))
        .collect();
    Ok(protocol_view(id, &cohort, adherence, last, &events))
}

/// Protocols side by side, in the order of `ids`.
pub fn compare(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    ids: &[Uuid],
    filter: &Filter,
) -> Result<Comparison, ApiError> {
    let found = db::protocols::by_ids(conn, tenant, ids)?;
    let protocols: Vec<_> = ids
        .iter()
        .map(|id| found.iter().find(|p| p.id == *id).ok_or(ApiError::NotFound))
        .collect::<Result<_, _>>()?;
    let codes = catalogue(conn, tenant)?;
    store.refresh(conn)?;
    let cohorts: Vec<_> = protocols
        .iter()
        .map(|p| {
            let last = last_day(p).max(7);
            (store.cohort(p.id, &codes, last, filter), last)
        })
        .collect();
    let symptoms = codes
        .iter()
        .enumerate()
        .map(|(i, code)| ComparedSymptom {
            code: code.clone(),
            log_rank: match cohorts.as_slice() {
                [(a, _), (b, _)] => {
                    log_rank(&a.symptoms[i].events, &b.symptoms[i].events).map(|t| LogRankTest {
                        chi_square: t.chi_square,
                        p_value: t.p_value,
                    })
                }
                _ => None,
            },
            protocols: protocols
                .iter()
                .zip(&cohorts)
                .map(|(p, (cohort, last))| {
                    let s = &cohort.symptoms[i];
                    let (_, curve) = resolution(s, *last);
                    let (median_day, median_ci_low, median_ci_high) = median_with_interval(&curve);
                    let moderate = |day: usize| s.days.get(day).and_then(|h| h.share_at_least(2));
                    SymptomComparison {
                        protocol_id: p.id,
                        incidence: share(s.affected, cohort.treatments),
                        median_day,
                        median_ci_low,
                        median_ci_high,
                        moderate_or_worse_day_1: moderate(1),
                        moderate_or_worse_day_3: moderate(3),
                        moderate_or_worse_day_7: moderate(7),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Comparison {
        protocols: protocols
            .iter()
            .zip(&cohorts)
            .map(|(p, (c, _))| ComparedProtocol {
                protocol_id: p.id,
                name: p.name.clone(),
                treatments: c.treatments,
            })
            .collect(),
        symptoms,
    })
}

/// A patient's recovery against their protocols' cohorts.
pub fn patient_recovery(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    patient_id: Uuid,
) -> Result<PatientRecovery, ApiError> {
    db::patients::get(conn, tenant, patient_id)?;
    let today = local_date(Utc::now(), db::clinics::get(conn, tenant)?.tz()?);
    let codes = catalogue(conn, tenant)?;
    let protocols = db::protocols::all(conn, tenant)?;
    store.refresh(conn)?;
    // The cohorts first: `with_treatments` holds the store's lock while it runs.
    let cohorts: HashMap<Uuid, (u16, Cohort)> = protocols
        .iter()
        .map(|p| {
            let last = last_day(p);
            (
                p.id,
                (last, store.cohort(p.id, &codes, last, &Filter::default())),
            )
        })
        .collect();
    let mut treatments = store.with_treatments(Of::Patient(patient_id), &codes, |treatments| {
        treatments
            .into_iter()
            .map(
                |TreatmentSeries {
                     treatment: t,
                     series,
                 }| {
                    let of_protocol = cohorts.get(&t.protocol_id);
                    let last = of_protocol.map_or(0, |(last, _)| *last);
                    let day = (today - t.performed_on).num_days();
                    let in_follow_up = (0..=i64::from(last)).contains(&day);
                    PatientTreatmentRecovery {
                        treatment_id: t.id,
                        protocol_id: t.protocol_id,
                        performed_at: t.performed_at,
                        in_follow_up,
                        symptoms: codes
                            .iter()
                            .enumerate()
                            .filter_map(|(i, code)| {
                                let cohort = of_protocol.map(|(_, c)| &c.symptoms[i]);
                                patient_symptom(code, series[i], cohort, last, in_follow_up)
                            })
                            .collect(),
                    }
                },
            )
            .collect::<Vec<_>>()
    });
    treatments.sort_by(|a, b| {
        b.performed_at
            .cmp(&a.performed_at)
            .then(b.treatment_id.cmp(&a.treatment_id))
    });
    Ok(PatientRecovery {
        patient_id,
        treatments,
    })
}

/// A treatment whose check-in schedule still runs today, as the clinic sees it today.
#[derive(Debug, Clone)]
pub struct TreatmentToday {
    pub treatment_id: Uuid,
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    /// Days since the treatment, today.
    pub day: i64,
    /// A check-in is scheduled today.
    pub due_today: bool,
    /// The patient has checked in for today.
    pub checked_in_today: bool,
    /// The symptoms still present after their usual resolution day: "slower than usual" when any.
    pub slower: Vec<String>,
}

/// Today for one treatment, if its schedule (`plan`, days 0 to `last`) still runs: the one
/// definition of "in follow-up", "due today" and "slower than usual" (against the protocol's
/// `usual` resolution day of each of `codes`), for the dashboard and the patient list alike.
fn today_of(
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

/// Every treatment of `protocols` (one clinic's) whose schedule still runs on `today`, the
/// clinic's date. The store must be fresh.
pub fn treatments_today(
    store: &Store,
    protocols: &[db::protocols::Protocol],
    codes: &[String],
    today: NaiveDate,
) -> Vec<TreatmentToday> {
    let mut all = vec![];
    for p in protocols {
        let (last, plan) = (last_day(p), schedule(p));
        let usual = store.usual_resolution_days(p.id, codes);
        let earliest = today
            .checked_sub_days(Days::new(u64::from(last)))
            .unwrap_or(today);
        store.with_treatments(
            Of::ProtocolBetween(p.id, earliest, today),
            codes,
            |treatments| {
                all.extend(
                    treatments
                        .iter()
                        .filter_map(|ts| today_of(ts, &plan, last, codes, &usual, today)),
                );
            },
        );
    }
    all
}

/// The clinic today.
pub fn dashboard(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
) -> Result<Dashboard, ApiError> {
    let clinic = db::clinics::get(conn, tenant)?;
    let tz = clinic.tz()?;
    let today = local_date(Utc::now(), tz);
    let midnight = |date: NaiveDate| {
        date.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let tomorrow = today.checked_add_days(Days::new(1));
    let check_ins_today = match (midnight(today), tomorrow.and_then(midnight)) {
        (Some(from), Some(to)) => db::check_ins::count_recorded_between(conn, tenant, from, to)?,
        _ => 0,
    };
    let codes = catalogue(conn, tenant)?;
    let protocols = db::protocols::all(conn, tenant)?;
    store.refresh(conn)?;
    let week_start = today.checked_sub_days(Days::new(6));
    let (mut active, mut done, mut due, mut slow) = (0, 0, 0, vec![]);
    let (mut due_today, mut due_today_checked_in) = (0, 0);
    for p in &protocols {
        let last = last_day(p);
        let plan = schedule(p);
        let usual = store.usual_resolution_days(p.id, &codes);
        // Only treatments whose schedule reaches into the last seven days matter here.
        let earliest = week_start
            .and_then(|w| w.checked_sub_days(Days::new(u64::from(last))))
            .unwrap_or(today);
        store.with_treatments(
            Of::ProtocolBetween(p.id, earliest, today),
            &codes,
            |treatments| {
                for ts in treatments {
                    let t = ts.treatment;
                    let (d, n) = adherence(
                        t.performed_on,
                        &plan,
                        |day| t.checked_in(day),
                        today,
                        week_start,
                    );
                    (done, due) = (done + d, due + n);
                    let Some(now) = today_of(&ts, &plan, last, &codes, &usual, today) else {
                        continue;
                    };
                    active += 1;
                    if now.due_today {
                        due_today += 1;
                        due_today_checked_in += u32::from(now.checked_in_today);
                    }
                    if !now.slower.is_empty() {
                        slow.push(SlowRecovery {
                            patient_id: now.patient_id,
                            treatment_id: now.treatment_id,
                            protocol_id: now.protocol_id,
                            day: now.day,
                            symptoms: now.slower,
                        });
                    }
                }
            },
        );
    }
    Ok(Dashboard {
        active_treatments: active,
        check_ins_today,
        due_today,
        due_today_checked_in,
        adherence_7d: share(done, due),
        slower_than_usual: slow,
    })
}
