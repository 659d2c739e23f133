//! The reminders job: on a scheduled check-in day without a check-in, once the clinic's clock has
//! passed its reminder hour, one reminder per treatment and day: a `check_in.due` webhook event
//! and a Web Push message to each of the patient's subscribed phones, all in one transaction with
//! the reminder's record, so that a restart or a second instance sends none twice.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::{self, Pool, Tenant};
use crate::domain::ids::{PatientId, TreatmentId};
use crate::domain::reminders::{self, notification};
use crate::domain::schedule::{MAX_SCHEDULE_DAY, local_date};
use crate::domain::webhooks::{CheckInDueData, Event};

/// The advisory lock that keeps the job to one instance at a time.
pub const JOB_LOCK: i64 = 0x7265_6d69_6e64_6572; // "reminder"

/// How long a reminder's push message is worth sending: the same evening.
pub const PUSH_FOR: chrono::Duration = chrono::Duration::hours(6);

/// Runs the job now and then every `interval`, on a thread of its own.
pub fn spawn(
    pool: Pool,
    interval: Duration,
    push: bool,
    stop: super::Stop,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            match pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    run_once(&mut conn, Utc::now(), push).map_err(anyhow::Error::from)
                }) {
                Ok(sent) if sent > 0 => tracing::info!(sent, "check-in reminders"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the reminders job failed; it runs again later")
                }
            }
            if stop.wait(interval) {
                break;
            }
        }
    })
}

/// Sends the reminders due at `now` that were not sent before, with push messages when `push`
/// (Web Push is configured). Returns how many reminders it sent; 0 when another instance holds
/// the job.
pub fn run_once(conn: &mut PgConnection, now: DateTime<Utc>, push: bool) -> QueryResult<usize> {
    conn.transaction(|conn| {
        if !db::try_advisory_xact_lock(conn, JOB_LOCK)? {
            return Ok(0);
        }
        let mut sent = 0;
        for clinic in db::clinics::all(conn)? {
            let Ok(tz) = clinic.timezone.parse::<Tz>() else {
                tracing::warn!(clinic_id = %clinic.id, "the clinic's time zone is not known: no reminders");
                continue;
            };
            let tenant = Tenant::new(clinic.id);
            sent += remind_clinic(conn, tenant, tz, clinic.reminder_hour, now, push)?;
        }
        Ok(sent)
    })
}

fn remind_clinic(
    conn: &mut PgConnection,
    tenant: Tenant,
    tz: Tz,
    reminder_hour: i16,
    now: DateTime<Utc>,
    push: bool,
) -> QueryResult<usize> {
    if !reminders::hour_reached(tz, reminder_hour, now) {
        return Ok(0);
    }
    let since = now - chrono::Duration::days(i64::from(MAX_SCHEDULE_DAY) + 2);
    let candidates = db::reminders::candidates(conn, tenant, since, now)?;
    let enrolled: HashSet<PatientId> = db::reminders::enrolled_patients(conn, tenant, now)?
        .into_iter()
        .collect();
    let of_enrolled: Vec<TreatmentId> = candidates
        .iter()
        .filter(|c| enrolled.contains(&c.patient_id))
        .map(|c| c.treatment_id)
        .collect();
    let checked: HashSet<(TreatmentId, i32)> =
        db::reminders::checked_in_days(conn, tenant, &of_enrolled)?
            .into_iter()
            .collect();
    let mut sent = 0;
    for c in candidates {
        let days: Vec<i32> = c.check_in_days.iter().flatten().copied().collect();
        let treatment = reminders::Treatment {
            performed_at: c.performed_at,
            check_in_days: &days,
            enrolled: enrolled.contains(&c.patient_id),
        };
        let checked_in = |d| checked.contains(&(c.treatment_id, d));
        let Some(day) = reminders::due(treatment, tz, reminder_hour, now, checked_in) else {
            continue;
        };
        let due = CheckInDueData {
            patient_id: c.patient_id.uuid(),
            treatment_id: c.treatment_id.uuid(),
            day,
            date: local_date(now, tz),
        };
        if remind(conn, tenant, due, now, push)? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// One reminder: its record, its webhook event and its push messages; nothing when it was sent
/// before.
fn remind(
    conn: &mut PgConnection,
    tenant: Tenant,
    due: CheckInDueData,
    now: DateTime<Utc>,
    push: bool,
) -> QueryResult<bool> {
    if !db::reminders::record(
        conn,
        tenant,
        TreatmentId::from(due.treatment_id),
        due.day,
        now,
    )? {
        return Ok(false);
    }
    let patient_id = due.patient_id;
    db::webhooks::enqueue(conn, tenant, &Event::CheckInDue(due))?;
    if push {
        for (subscription, language) in
            db::push::of_patient(conn, tenant, PatientId::from(patient_id))?
        {
            let payload = serde_json::to_value(notification(language))
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            db::push::enqueue(conn, tenant, subscription, &payload, now + PUSH_FOR)?;
        }
    }
    Ok(true)
}
