//! The recovery views as the API serves them: the response types (their names are the OpenAPI
//! schemas' names), each made from the read model's plain value of the same name.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::read_model::views;

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

impl From<views::DayStats> for DayStats {
    fn from(v: views::DayStats) -> Self {
        DayStats {
            day: v.day,
            n: v.n,
            mean: v.mean,
            median: v.median,
            p75: v.p75,
            p90: v.p90,
            moderate_or_worse: v.moderate_or_worse,
        }
    }
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

impl From<views::CurvePoint> for CurvePoint {
    fn from(v: views::CurvePoint) -> Self {
        CurvePoint {
            day: v.day,
            unresolved: v.unresolved,
            ci_low: v.ci_low,
            ci_high: v.ci_high,
        }
    }
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

impl From<views::Resolution> for Resolution {
    fn from(v: views::Resolution) -> Self {
        Resolution {
            affected: v.affected,
            resolved: v.resolved,
            censored: v.censored,
            median_day: v.median_day,
            p75_day: v.p75_day,
            p90_day: v.p90_day,
            curve: v.curve.into_iter().map(Into::into).collect(),
        }
    }
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

impl From<views::SymptomRecovery> for SymptomRecovery {
    fn from(v: views::SymptomRecovery) -> Self {
        SymptomRecovery {
            code: v.code,
            incidence: v.incidence,
            days: v.days.into_iter().map(Into::into).collect(),
            resolution: v.resolution.into(),
        }
    }
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

impl From<views::ComplicationRate> for ComplicationRate {
    fn from(v: views::ComplicationRate) -> Self {
        ComplicationRate {
            term: v.term,
            grade: v.grade,
            count: v.count,
            per_100_treatments: v.per_100_treatments,
        }
    }
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

impl From<views::ProtocolRecovery> for ProtocolRecovery {
    fn from(v: views::ProtocolRecovery) -> Self {
        ProtocolRecovery {
            protocol_id: v.protocol_id,
            treatments: v.treatments,
            adherence: v.adherence,
            symptoms: v.symptoms.into_iter().map(Into::into).collect(),
            complications: v.complications.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedProtocol {
    pub protocol_id: Uuid,
    pub name: String,
    pub treatments: u32,
}

impl From<views::ComparedProtocol> for ComparedProtocol {
    fn from(v: views::ComparedProtocol) -> Self {
        ComparedProtocol {
            protocol_id: v.protocol_id,
            name: v.name,
            treatments: v.treatments,
        }
    }
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

impl From<views::SymptomComparison> for SymptomComparison {
    fn from(v: views::SymptomComparison) -> Self {
        SymptomComparison {
            protocol_id: v.protocol_id,
            incidence: v.incidence,
            median_day: v.median_day,
            median_ci_low: v.median_ci_low,
            median_ci_high: v.median_ci_high,
            moderate_or_worse_day_1: v.moderate_or_worse_day_1,
            moderate_or_worse_day_3: v.moderate_or_worse_day_3,
            moderate_or_worse_day_7: v.moderate_or_worse_day_7,
        }
    }
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

impl From<views::LogRankTest> for LogRankTest {
    fn from(v: views::LogRankTest) -> Self {
        LogRankTest {
            chi_square: v.chi_square,
            p_value: v.p_value,
        }
    }
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

impl From<views::ComparedSymptom> for ComparedSymptom {
    fn from(v: views::ComparedSymptom) -> Self {
        ComparedSymptom {
            code: v.code,
            protocols: v.protocols.into_iter().map(Into::into).collect(),
            log_rank: v.log_rank.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub protocols: Vec<ComparedProtocol>,
    pub symptoms: Vec<ComparedSymptom>,
}

impl From<views::Comparison> for Comparison {
    fn from(v: views::Comparison) -> Self {
        Comparison {
            protocols: v.protocols.into_iter().map(Into::into).collect(),
            symptoms: v.symptoms.into_iter().map(Into::into).collect(),
        }
    }
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

impl From<views::PatientDay> for PatientDay {
    fn from(v: views::PatientDay) -> Self {
        PatientDay {
            day: v.day,
            score: v.score,
            cohort_median: v.cohort_median,
            cohort_p90: v.cohort_p90,
        }
    }
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

impl From<views::PatientSymptom> for PatientSymptom {
    fn from(v: views::PatientSymptom) -> Self {
        PatientSymptom {
            code: v.code,
            days: v.days.into_iter().map(Into::into).collect(),
            resolved_day: v.resolved_day,
            censored_at: v.censored_at,
            usual_resolution_day: v.usual_resolution_day,
            slower_than_usual: v.slower_than_usual,
            slower_until_day: v.slower_until_day,
            cohort: v.cohort.into_iter().map(Into::into).collect(),
        }
    }
}

/// The cohort on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortBand {
    pub day: u16,
    pub median: u8,
    pub p90: u8,
}

impl From<views::CohortBand> for CohortBand {
    fn from(v: views::CohortBand) -> Self {
        CohortBand {
            day: v.day,
            median: v.median,
            p90: v.p90,
        }
    }
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

impl From<views::PatientTreatmentRecovery> for PatientTreatmentRecovery {
    fn from(v: views::PatientTreatmentRecovery) -> Self {
        PatientTreatmentRecovery {
            treatment_id: v.treatment_id,
            protocol_id: v.protocol_id,
            performed_at: v.performed_at,
            in_follow_up: v.in_follow_up,
            symptoms: v.symptoms.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientRecovery {
    pub patient_id: Uuid,
    /// Newest treatment first.
    pub treatments: Vec<PatientTreatmentRecovery>,
}

impl From<views::PatientRecovery> for PatientRecovery {
    fn from(v: views::PatientRecovery) -> Self {
        PatientRecovery {
            patient_id: v.patient_id,
            treatments: v.treatments.into_iter().map(Into::into).collect(),
        }
    }
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

impl From<views::SlowRecovery> for SlowRecovery {
    fn from(v: views::SlowRecovery) -> Self {
        SlowRecovery {
            patient_id: v.patient_id,
            treatment_id: v.treatment_id,
            protocol_id: v.protocol_id,
            day: v.day,
            symptoms: v.symptoms,
        }
    }
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

impl From<views::Dashboard> for Dashboard {
    fn from(v: views::Dashboard) -> Self {
        Dashboard {
            active_treatments: v.active_treatments,
            check_ins_today: v.check_ins_today,
            due_today: v.due_today,
            due_today_checked_in: v.due_today_checked_in,
            adherence_7d: v.adherence_7d,
            slower_than_usual: v.slower_than_usual.into_iter().map(Into::into).collect(),
        }
    }
}
