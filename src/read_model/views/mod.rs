//! The recovery views, assembled from the read model and a few queries: a protocol's cohort curves
//! and time to resolution, protocols side by side, a patient's recovery against their cohort, and
//! the clinic at a glance. Their types are plain serde values, declared once by `recovery_views!`:
//! `api::recovery` serves them as they are and gives them their OpenAPI schemas from the same
//! declaration.

mod assembly;
mod queries;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use assembly::{last_day, patient_symptom, protocol_view, treatments_today};
pub(crate) use queries::catalogue;
pub use queries::{compare, dashboard, patient_recovery, protocol_recovery};

/// The views' types, declared once and handed to `$declare`: read_model declares them as plain
/// serde values (`plain!`, below); `api::recovery` declares from the same text the mirrors that
/// give them their OpenAPI schemas, so no second copy of a shape is kept in step by hand.
macro_rules! recovery_views {
    ($declare:ident $($args:tt)*) => {
        $declare! {
            $($args)*
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

            pub struct CurvePoint {
                pub day: u16,
                /// Kaplan-Meier estimate of the share of affected treatments not yet resolved after this day.
                pub unresolved: f64,
                /// 95% band (Greenwood's variance).
                pub ci_low: f64,
                pub ci_high: f64,
            }

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

            pub struct SymptomRecovery {
                pub code: String,
                /// The share of treatments whose patient ever reported the symptom (score >= 1).
                pub incidence: Option<f64>,
                /// Day 0 to the protocol's last scheduled day.
                pub days: Vec<DayStats>,
                pub resolution: Resolution,
            }

            /// Complications of one term and grade in the cohort.
            pub struct ComplicationRate {
                /// As recorded, compared without case.
                pub term: String,
                /// CTCAE grade 1-5.
                pub grade: i16,
                pub count: u32,
                pub per_100_treatments: f64,
            }

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

            pub struct ComparedProtocol {
                pub protocol_id: Uuid,
                pub name: String,
                pub treatments: u32,
            }

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
            pub struct LogRankTest {
                /// The log-rank statistic, chi-square with 1 degree of freedom.
                pub chi_square: f64,
                /// The chance of a difference at least this large if the protocols did not differ.
                pub p_value: f64,
            }

            pub struct ComparedSymptom {
                pub code: String,
                /// In the order of `ids`.
                pub protocols: Vec<SymptomComparison>,
                /// The log-rank test of the two protocols' times to resolution; null when more than two are
                /// compared or either has no resolution of the symptom.
                pub log_rank: Option<LogRankTest>,
            }

            pub struct Comparison {
                pub protocols: Vec<ComparedProtocol>,
                pub symptoms: Vec<ComparedSymptom>,
            }

            pub struct PatientDay {
                pub day: u16,
                /// The worst score reported that day.
                pub score: u8,
                /// The protocol cohort's median and 90th percentile that day, once 20 treatments reported it.
                pub cohort_median: Option<u8>,
                pub cohort_p90: Option<u8>,
            }

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
            pub struct CohortBand {
                pub day: u16,
                pub median: u8,
                pub p90: u8,
            }

            pub struct PatientTreatmentRecovery {
                pub treatment_id: Uuid,
                pub protocol_id: Uuid,
                pub performed_at: DateTime<Utc>,
                /// The treatment's check-in schedule still runs today (the clinic's date).
                pub in_follow_up: bool,
                /// The symptoms the patient reported after this treatment.
                pub symptoms: Vec<PatientSymptom>,
            }

            pub struct PatientRecovery {
                pub patient_id: Uuid,
                /// Newest treatment first.
                pub treatments: Vec<PatientTreatmentRecovery>,
            }

            pub struct SlowRecovery {
                pub patient_id: Uuid,
                pub treatment_id: Uuid,
                pub protocol_id: Uuid,
                /// Days since the treatment, today.
                pub day: i64,
                /// The symptoms still present after their usual resolution day.
                pub symptoms: Vec<String>,
            }

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
        }
    };
}
pub(crate) use recovery_views;

/// Declares each struct as a plain value that serde writes as it is.
macro_rules! plain {
    ($($(#[$attr:meta])* pub struct $name:ident $body:tt)*) => {$(
        $(#[$attr])*
        #[derive(Debug, serde::Serialize)]
        pub struct $name $body
    )*};
}
pub(crate) use plain;

recovery_views!(plain);

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
