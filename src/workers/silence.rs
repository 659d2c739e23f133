//! The rules about the check-ins that did not come, which no check-in can trigger:
//! `silent_after_bad_report` and `missed_check_ins`. A job every few minutes, on one instance at a
//! time, with the clock as an argument so that tests can run it on any day.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, Pool, Tenant};
use crate::domain::alerts::{RULES, Rule, missed_in_a_row, rated_severe, silent_after_bad_report};
use crate::domain::ids::{PatientId, TreatmentId};
use crate::domain::symptoms::SymptomKind;
use crate::read_model::Store;
use crate::services;
use crate::services::alerts::{Occasion, raise};

/// The advisory lock that keeps the job to one instance when several serve one database.
pub const JOB_LOCK: i64 = 0x6166_7465_7263_6172; // "aftercar"

/// Runs the job, and `slower_than_peers`' upkeep (`workers::peers`), now and then every
/// `interval`, on a thread of its own.
pub fn spawn(
    pool: Pool,
    store: std::sync::Arc<Store>,
    interval: Duration,
    stop: super::Stop,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            match pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    run_once(&mut conn, &store, Utc::now()).map_err(anyhow::Error::from)
                }) {
                Ok(raised) if raised > 0 => tracing::info!(raised, "patients gone quiet"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the silence job failed; it runs again later")
                }
            }
            let peers = pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    super::peers::run_once(&mut conn, &store, Utc::now())
                        .map_err(anyhow::Error::from)
                });
            match peers {
                Ok(c) if c != super::peers::Changes::default() => {
                    tracing::info!(
                        raised = c.raised,
                        withdrawn = c.withdrawn,
                        "slower than usual"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the peers job failed; it runs again later"),
            }
            if stop.wait(interval) {
                break;
            }
        }
    })
}

/// A treatment with a run of missed scheduled days, as the read model knows it.
struct Quiet {
    clinic_id: Uuid,
    patient_id: PatientId,
    treatment_id: TreatmentId,
    days_passed: i32,
    checked_in: BTreeSet<i32>,
}

/// Raises the silence rules, as of `now`, for every treatment whose patient went quiet. Returns
/// how many alerts it raised or added to; 0 when another instance holds the job.
pub fn run_once(
    conn: &mut PgConnection,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<usize, services::Error> {
    store.refresh(conn)?;
    conn.transaction(|conn| {
        if !db::try_advisory_xact_lock(conn, JOB_LOCK)? {
            return Ok(0);
        }
        let mut raised = 0;
        for protocol in db::protocols::every_clinics(conn)? {
            let schedule: Vec<i32> = protocol.check_in_days.iter().flatten().copied().collect();
            let Some(&last) = schedule.iter().max() else {
                continue;
            };
            let span = u32::try_from(last + 2).unwrap_or(0);
            // Only treatments with two scheduled days in a row already past without a check-in.
            let quiet = store.performed_within(protocol.id.uuid(), now, span, |t, today| {
                let days_passed = (today - t.performed_on).num_days() as i32;
                let checked_in: BTreeSet<i32> = t.check_in_days().collect();
                let due: Vec<i32> = schedule
                    .iter()
                    .copied()
                    .filter(|&d| d < days_passed)
                    .collect();
                due.windows(2)
                    .any(|w| checked_in.range(w[0]..=w[1]).next().is_none())
                    .then_some(Quiet {
                        clinic_id: t.clinic_id,
                        patient_id: PatientId::from(t.patient_id),
                        treatment_id: TreatmentId::from(t.id),
                        days_passed,
                        checked_in,
                    })
            });
            // A protocol's treatments are all its clinic's.
            let Some(tenant) = quiet.first().map(|q| Tenant::new(q.clinic_id.into())) else {
                continue;
            };
            raised += raise_for(conn, tenant, &schedule, &quiet)?;
        }
        Ok(raised)
    })
}

/// The silence rules for one protocol's quiet treatments.
fn raise_for(
    conn: &mut PgConnection,
    tenant: Tenant,
    schedule: &[i32],
    quiet: &[Quiet],
) -> Result<usize, services::Error> {
    let ids: Vec<TreatmentId> = quiet.iter().map(|q| q.treatment_id).collect();
    let patients: Vec<PatientId> = quiet.iter().map(|q| q.patient_id).collect();
    let mut bad: HashMap<TreatmentId, BTreeSet<i32>> = HashMap::new();
    for (t, day, code, score) in db::silence::high_scores(conn, tenant, &ids)? {
        if rated_severe(day, &code, SymptomKind::Severity, score) {
            bad.entry(t).or_default().insert(day);
        }
    }
    let by_check_ins: Vec<&str> = RULES
        .iter()
        .filter(|r| !r.is_about_silence())
        .map(|r| r.as_str())
        .collect();
    for (t, day) in db::silence::alerted_days(conn, tenant, &ids, &by_check_ins)? {
        bad.entry(t).or_default().insert(day);
    }
    let reminded: HashSet<(TreatmentId, i32)> = db::silence::reminded_days(conn, tenant, &ids)?
        .into_iter()
        .collect();
    let reminders_on: HashSet<PatientId> = db::silence::with_reminders_on(conn, tenant, &patients)?
        .into_iter()
        .collect();

    let mut raised = 0;
    let none = BTreeSet::new();
    for q in quiet {
        let bad = bad.get(&q.treatment_id).unwrap_or(&none);
        if let Some(days) = silent_after_bad_report(schedule, q.days_passed, &q.checked_in, bad) {
            raised += raise_once(conn, tenant, q, Rule::SilentAfterBadReport, &days)?;
        }
        let missed = missed_in_a_row(
            schedule,
            q.days_passed,
            |d| q.checked_in.contains(&d),
            |d| !reminders_on.contains(&q.patient_id) || reminded.contains(&(q.treatment_id, d)),
        );
        if let Some(days) = missed {
            raised += raise_once(conn, tenant, q, Rule::MissedCheckIns, &days)?;
        }
    }
    Ok(raised)
}

/// Raises `rule` on the treatment for the missed `days`, unless an alert of the rule holds them
/// already. 1 when it raised or added to an alert.
fn raise_once(
    conn: &mut PgConnection,
    tenant: Tenant,
    q: &Quiet,
    rule: Rule,
    days: &[i32],
) -> Result<usize, services::Error> {
    let detail = serde_json::json!({ "missed_days": days });
    if db::alerts::has_evidence(conn, tenant, q.treatment_id, rule.as_str(), &detail)? {
        return Ok(0);
    }
    let on = Occasion {
        patient_id: q.patient_id,
        treatment_id: q.treatment_id,
        day: days.last().copied().unwrap_or_default(),
        check_in_id: None,
        detail,
    };
    Ok(usize::from(raise(conn, tenant, rule, on)?.is_some()))
}
