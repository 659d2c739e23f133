//! `slower_than_peers` kept to its meaning. A check-in raises it against the cohort as it stands
//! then; the cohort keeps growing and the symptom may resolve. This job, run with the silence
//! rules, makes the open alerts name exactly the treatments in follow-up that are slower than
//! usual now, as the dashboard, the patient list and the patient view do: it withdraws an open
//! alert whose treatment no longer is, and raises one (once per treatment, as a check-in would)
//! for a treatment that became slower without a check-in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, Tenant};
use crate::domain::alerts::Rule;
use crate::domain::ids::{PatientId, TreatmentId};
use crate::domain::schedule::local_date;
use crate::read_model::Store;
use crate::read_model::views::{TreatmentToday, treatments_today};
use crate::services;
use crate::services::alerts::{Occasion, raise, withdraw};

/// The advisory lock that keeps the job to one instance when several serve one database.
pub const JOB_LOCK: i64 = 0x7065_6572_735f_6a6f; // "peers_jo"

/// What one run changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub raised: usize,
    pub withdrawn: usize,
}

/// Brings every clinic's `slower_than_peers` alerts in step with the cohort as of `now`; nothing
/// when another instance holds the job.
pub fn run_once(
    conn: &mut PgConnection,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Changes, services::Error> {
    store.refresh(conn)?;
    conn.transaction(|conn| {
        let mut changes = Changes::default();
        if !db::try_advisory_xact_lock(conn, JOB_LOCK)? {
            return Ok(changes);
        }
        for clinic in db::clinics::all(conn)? {
            let Ok(tz) = clinic.tz() else { continue };
            let tenant = Tenant::new(clinic.id);
            let codes: Vec<String> = db::symptoms::catalogue(conn, tenant)?
                .into_iter()
                .map(|s| s.code)
                .collect();
            let protocols = db::protocols::all(conn, tenant)?;
            let today = treatments_today(store, &protocols, &codes, local_date(now, tz));
            let following: HashMap<Uuid, &TreatmentToday> =
                today.iter().map(|t| (t.treatment_id, t)).collect();
            let open = db::alerts::open_of_rule(conn, tenant, Rule::SlowerThanPeers.as_str())?;
            for (alert, treatment) in &open {
                // After follow-up an open alert is the clinician's to close, as any other.
                let Some(t) = following.get(treatment) else { continue };
                if t.slower.is_empty() {
                    let why = "Withdrawn: no longer slower than usual (the symptom resolved, or \
                               the protocol's usual resolution day moved later as its cohort grew).";
                    changes.withdrawn += usize::from(withdraw(conn, tenant, *alert, why)?);
                }
            }
            for t in today.iter().filter(|t| !t.slower.is_empty()) {
                if open.iter().any(|(_, treatment)| *treatment == t.treatment_id) {
                    continue;
                }
                let on = Occasion {
                    patient_id: PatientId::from(t.patient_id),
                    treatment_id: TreatmentId::from(t.treatment_id),
                    day: i32::try_from(t.day).unwrap_or(i32::MAX),
                    check_in_id: None,
                    detail: serde_json::json!({ "slower_than_usual": t.slower }),
                };
                changes.raised += usize::from(raise(conn, tenant, Rule::SlowerThanPeers, on)?.is_some());
            }
        }
        Ok(changes)
    })
}
