//! The clinic's patient list (`GET /v1/patients`): the patients that a search and filters choose, a
//! page at a time, each with what the list shows of their latest treatment today, so that showing
//! the list takes one request. Follow-up, "due today" and "slower than usual" are the dashboard's
//! (`views::treatments_today`); the rest is one query (`db::patients::list`). The row types are
//! plain, declared once by `patient_list_rows!`; `api::schemas` gives them their schemas from it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::views::{TreatmentToday, catalogue, plain, treatments_today};
use super::{Of, Store, TreatmentSeries};
use crate::db::patients::{LatestAmong, ListFilter, Listed, Patient};
use crate::db::{self, Cursor, PageRequest, Tenant, into_page};
use crate::domain::alerts::Level;
use crate::domain::schedule::local_date;

/// Filters on the latest treatment as it stands today: each one set keeps the patients for whom
/// it is true (or, set to false, those for whom it is not).
#[derive(Debug, Clone, Copy, Default)]
pub struct TodayFilter {
    pub in_follow_up: Option<bool>,
    pub slower: Option<bool>,
    pub due_today: Option<bool>,
}

impl TodayFilter {
    fn is_set(self) -> bool {
        self.in_follow_up.is_some() || self.slower.is_some() || self.due_today.is_some()
    }

    /// Whether a treatment (None: not in follow-up, or none at all) passes every filter set.
    fn passes(self, today: Option<&TreatmentToday>) -> bool {
        let follow_up = today.is_some();
        let slower = today.is_some_and(|t| !t.slower.is_empty());
        let due = today.is_some_and(not_checked_in_when_due);
        self.in_follow_up.is_none_or(|want| want == follow_up)
            && self.slower.is_none_or(|want| want == slower)
            && self.due_today.is_none_or(|want| want == due)
    }
}

fn not_checked_in_when_due(t: &TreatmentToday) -> bool {
    t.due_today && !t.checked_in_today
}

/// The rows the list shows of a patient's latest treatment, declared once and handed to
/// `$declare` as `recovery_views!` does the views': here plain serde values (`plain!`), in
/// `api::schemas` the mirrors that give them their OpenAPI schemas.
macro_rules! patient_list_rows {
    ($declare:ident $($args:tt)*) => {
        $declare! {
            $($args)*
            /// The worst score of any symptom on one day since the treatment.
            pub struct WorstOfDay {
                pub day: u16,
                pub score: u8,
            }

            pub struct SymptomScore {
                /// The symptom's code in the catalogue.
                pub code: String,
                pub score: u8,
            }

            /// The latest day the patient checked in for, and what was worst that day.
            pub struct LatestCheckIn {
                /// Days since the treatment.
                pub day: u16,
                /// The symptom with the highest score that day (the catalogue's first on a tie); null when
                /// every score was 0.
                pub worst: Option<SymptomScore>,
            }

            /// A patient's latest treatment (by `performed_at`) as it stands today.
            pub struct LatestTreatment {
                pub treatment_id: Uuid,
                pub protocol_id: Uuid,
                pub performed_at: DateTime<Utc>,
                /// Days since the treatment, today, counted in the clinic's time zone (the treatment's day is 0).
                pub day: i64,
                /// Its check-in schedule still runs today: `day` is from 0 to the protocol's last check-in day.
                pub in_follow_up: bool,
                /// A check-in is scheduled today and the patient has not checked in for today.
                pub due_today_not_checked_in: bool,
                /// In follow-up, a symptom was still present after the day by which 90% of the protocol's
                /// patients had resolved it and has not resolved since: "slower than usual", as the
                /// dashboard, the patient view and the `slower_than_peers` alerts say it.
                pub slower_than_usual: bool,
                /// The symptoms that make it so, by code.
                pub slower_symptoms: Vec<String>,
                /// The worst score of any symptom on each day reported, oldest first.
                pub worst_by_day: Vec<WorstOfDay>,
                /// Null before the first check-in.
                pub latest_check_in: Option<LatestCheckIn>,
            }
        }
    };
}
pub(crate) use patient_list_rows;

patient_list_rows!(plain);

/// One patient of the list.
pub struct ListedPatient {
    pub patient: Patient,
    /// Open or acknowledged alerts.
    pub open_alerts: i64,
    pub top_alert_level: Option<Level>,
    pub latest_treatment: Option<LatestTreatment>,
}

/// A page of the clinic's patients that pass `filter` and `today`, oldest first, and the cursor of
/// the next page.
pub fn patient_list(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    mut filter: ListFilter,
    today: TodayFilter,
    page: PageRequest,
) -> Result<(Vec<ListedPatient>, Option<Cursor>), db::Error> {
    let tz = db::clinics::get(conn, tenant)?.tz()?;
    let date = local_date(Utc::now(), tz);
    let codes = catalogue(conn, tenant)?;
    let protocols = db::protocols::all(conn, tenant)?;
    store.refresh(conn)?;
    let now: HashMap<Uuid, TreatmentToday> = treatments_today(store, &protocols, &codes, date)
        .into_iter()
        .map(|t| (t.treatment_id, t))
        .collect();
    if today.is_set() {
        filter.latest = Some(LatestAmong {
            ids: now
                .values()
                .filter(|t| today.passes(Some(t)))
                .map(|t| t.treatment_id)
                .collect(),
            // Patients whose latest treatment is out of follow-up pass when every filter is false.
            or_none_of: today.passes(None).then(|| now.keys().copied().collect()),
        });
    }
    let rows = db::patients::list(conn, tenant, &filter, page)?;
    let (rows, next) = into_page(rows, page, |r| Cursor {
        at: r.patient.created_at,
        id: r.patient.id.uuid(),
    });
    let listed = rows
        .into_iter()
        .map(|row| listed(row, store, &codes, &now, date, tz))
        .collect();
    Ok((listed, next))
}

/// One row of the page as the list shows it: its latest treatment today from `now`, which
/// `treatments_today` made, and its scores from the store.
fn listed(
    row: Listed,
    store: &Store,
    codes: &[String],
    now: &HashMap<Uuid, TreatmentToday>,
    date: chrono::NaiveDate,
    tz: chrono_tz::Tz,
) -> ListedPatient {
    let latest = match (row.treatment_id, row.protocol_id, row.performed_at) {
        (Some(id), Some(protocol_id), Some(performed_at)) => {
            let today = now.get(&id.uuid());
            let (worst_by_day, latest_check_in) =
                store.with_treatments(Of::Patient(row.patient.id.uuid()), codes, |treatments| {
                    treatments
                        .iter()
                        .find(|t| t.treatment.id == id.uuid())
                        .map(|t| glance(t, codes))
                        .unwrap_or_default()
                });
            Some(LatestTreatment {
                treatment_id: id.uuid(),
                protocol_id: protocol_id.uuid(),
                performed_at,
                day: today.map_or_else(
                    || (date - local_date(performed_at, tz)).num_days(),
                    |t| t.day,
                ),
                in_follow_up: today.is_some(),
                due_today_not_checked_in: today.is_some_and(not_checked_in_when_due),
                slower_than_usual: today.is_some_and(|t| !t.slower.is_empty()),
                slower_symptoms: today.map(|t| t.slower.clone()).unwrap_or_default(),
                worst_by_day,
                latest_check_in,
            })
        }
        _ => None,
    };
    ListedPatient {
        open_alerts: row.open_alerts,
        top_alert_level: row.top_level_rank.and_then(|rank| {
            [Level::Urgent, Level::High, Level::Normal]
                .into_iter()
                .find(|l| l.rank() == rank)
        }),
        latest_treatment: latest,
        patient: row.patient,
    }
}

/// What a list row draws of a treatment: the worst score per day, and its latest check-in.
fn glance(ts: &TreatmentSeries, codes: &[String]) -> (Vec<WorstOfDay>, Option<LatestCheckIn>) {
    let days = ts.series.iter().map(|s| s.len()).max().unwrap_or(0);
    let worst_by_day = (0..days)
        .filter_map(|day| {
            let score = ts.series.iter().filter_map(|s| s.get(day)?.get()).max()?;
            Some(WorstOfDay {
                day: day as u16,
                score,
            })
        })
        .collect();
    let latest_check_in = ts.treatment.check_in_days().last().map(|day| {
        let mut worst: Option<SymptomScore> = None;
        for (code, series) in codes.iter().zip(&ts.series) {
            let score = series.get(day as usize).and_then(|s| s.get()).unwrap_or(0);
            if score > 0 && worst.as_ref().is_none_or(|w| score > w.score) {
                worst = Some(SymptomScore {
                    code: code.clone(),
                    score,
                });
            }
        }
        LatestCheckIn {
            day: day as u16,
            worst,
        }
    });
    (worst_by_day, latest_check_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today(due_today: bool, checked_in_today: bool, slower: &[&str]) -> TreatmentToday {
        TreatmentToday {
            treatment_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            protocol_id: Uuid::nil(),
            day: 3,
            due_today,
            checked_in_today,
            slower: slower.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_filter_set_must_hold_and_false_means_not() {
        let due = today(true, false, &[]);
        let done = today(true, true, &["redness"]);
        let all = TodayFilter::default();
        assert!(all.passes(None) && all.passes(Some(&due)));
        let f = TodayFilter {
            due_today: Some(true),
            ..all
        };
        assert!(f.passes(Some(&due)) && !f.passes(Some(&done)) && !f.passes(None));
        let f = TodayFilter {
            in_follow_up: Some(true),
            slower: Some(true),
            ..all
        };
        assert!(f.passes(Some(&done)) && !f.passes(Some(&due)) && !f.passes(None));
        // Out of follow-up (or never treated) is neither slower nor due.
        let f = TodayFilter {
            slower: Some(false),
            due_today: Some(false),
            ..all
        };
        assert!(f.passes(None) && !f.passes(Some(&due)) && !f.passes(Some(&done)));
    }
}
