//! The reminders sent, once per treatment and due day, and what the reminder job reads to decide.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::Tenant;
use super::schema::{check_ins, protocols, refresh_tokens, reminders, treatments};
use crate::domain::ids::{PatientId, TreatmentId};

/// A treatment that may have a check-in day today, with its schedule.
#[derive(Debug, Clone, Queryable)]
pub struct Candidate {
    pub treatment_id: TreatmentId,
    pub patient_id: PatientId,
    pub performed_at: DateTime<Utc>,
    pub check_in_days: Vec<Option<i32>>,
}

/// The clinic's treatments performed between `since` and `now`.
pub fn candidates(
    conn: &mut PgConnection,
    tenant: Tenant,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Candidate>> {
    treatments::table
        .inner_join(
            protocols::table.on(protocols::id
                .eq(treatments::protocol_id)
                .and(protocols::clinic_id.eq(treatments::clinic_id))),
        )
        .filter(treatments::clinic_id.eq(tenant.id()))
        .filter(treatments::performed_at.between(since, now))
        .select((
            treatments::id,
            treatments::patient_id,
            treatments::performed_at,
            protocols::check_in_days,
        ))
        .load(conn)
}

/// The clinic's patients with an enrolled phone at `now`: a session that still stands.
pub fn enrolled_patients(
    conn: &mut PgConnection,
    tenant: Tenant,
    now: DateTime<Utc>,
) -> QueryResult<Vec<PatientId>> {
    let ids: Vec<Option<PatientId>> = refresh_tokens::table
        .filter(refresh_tokens::clinic_id.eq(tenant.id()))
        .filter(refresh_tokens::patient_id.is_not_null())
        .filter(refresh_tokens::revoked_at.is_null())
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(now))
        .select(refresh_tokens::patient_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// The days the treatments have check-ins on, as (treatment, day).
pub fn checked_in_days(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
) -> QueryResult<Vec<(TreatmentId, i32)>> {
    check_ins::table
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(check_ins::treatment_id.eq_any(treatment_ids))
        .select((check_ins::treatment_id, check_ins::day))
        .distinct()
        .load(conn)
}

/// Records the reminder for the treatment's day; false when it was recorded before (by this job
/// earlier, or another instance), so that each day's reminder goes out once.
pub fn record(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    day: i32,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(reminders::table)
        .values((
            reminders::treatment_id.eq(treatment_id),
            reminders::day.eq(day),
            reminders::clinic_id.eq(tenant.id()),
            reminders::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}
