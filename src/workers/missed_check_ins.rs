//! The `missed_check_ins` rule, which no check-in can trigger because it is about the check-ins
//! that did not come: a job every few minutes, on one instance at a time.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::{self, Pool, Tenant};
use crate::domain::alerts::{Rule, missed_in_a_row};
use crate::read_model::Store;

/// The advisory lock that keeps the job to one instance when several serve one database.
pub const JOB_LOCK: i64 = 0x6166_7465_7263_6172; // "aftercar"

/// Runs the job now and then every `interval`, on a thread of its own.
pub fn spawn(pool: Pool, store: std::sync::Arc<Store>, interval: Duration) {
    std::thread::spawn(move || {
        loop {
            match pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| run_once(&mut conn, &store).map_err(anyhow::Error::from))
            {
                Ok(raised) if raised > 0 => tracing::info!(raised, "missed check-ins"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the missed check-ins job failed; it runs again later")
                }
            }
            std::thread::sleep(interval);
        }
    });
}

/// Raises `missed_check_ins` for every treatment in its first week whose patient missed two
/// scheduled days in a row. Returns how many alerts it raised or added to; 0 when another
/// instance holds the job.
pub fn run_once(conn: &mut PgConnection, store: &Store) -> QueryResult<usize> {
    store.refresh(conn)?;
    conn.transaction(|conn| {
        if !db::try_advisory_xact_lock(conn, JOB_LOCK)? {
            return Ok(0);
        }
        let mut raised = 0;
        for protocol in db::protocols::every_clinics(conn)? {
            let schedule: Vec<i32> = protocol.check_in_days.iter().flatten().copied().collect();
            let due = store.first_week(protocol.id, |t, today| {
                let days_passed = (today - t.performed_on).num_days() as i32;
                missed_in_a_row(&schedule, days_passed, |d| {
                    u16::try_from(d).is_ok_and(|d| t.checked_in(d))
                })
                .map(|missed| (t.clinic_id, t.patient_id, t.id, missed))
            });
            for (clinic_id, patient_id, treatment_id, (first, second)) in due {
                let tenant = Tenant::new(clinic_id);
                let detail = serde_json::json!({"missed_days": [first, second]});
                if db::alerts::has_evidence(
                    conn,
                    tenant,
                    treatment_id,
                    Rule::MissedCheckIns.as_str(),
                    &detail,
                )? {
                    continue;
                }
                let on = crate::services::alerts::Occasion {
                    patient_id,
                    treatment_id,
                    day: second,
                    check_in_id: None,
                    detail,
                };
                if crate::services::alerts::raise(conn, tenant, Rule::MissedCheckIns, on)?.is_none()
                {
                    continue;
                }
                raised += 1;
            }
        }
        Ok(raised)
    })
}
