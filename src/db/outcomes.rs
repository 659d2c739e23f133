//! Outcomes, assessed weeks after a treatment.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::Tenant;
use super::schema::{outcomes, treatments};
use crate::domain::codes::Assessor;
use crate::domain::ids::{OutcomeId, PatientId, ProtocolId, StaffId, TreatmentId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outcomes)]
pub struct Outcome {
    pub id: OutcomeId,
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub assessed_on: NaiveDate,
    pub assessor: Assessor,
    pub gais: i16,
    pub satisfaction: i16,
    pub goodman_baron: Option<i16>,
    pub notes: Option<String>,
    pub recorded_by_staff: Option<StaffId>,
    pub created_at: DateTime<Utc>,
}

/// Stores the outcome, or replaces the one for the same treatment, assessor and date (keeping its
/// id and creation time). The stored row, and whether it is new.
pub fn upsert(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &Outcome,
) -> QueryResult<(Outcome, bool)> {
    use diesel::upsert::excluded;
    let stored = diesel::insert_into(outcomes::table)
        .values((outcomes::clinic_id.eq(tenant.id()), new))
        .on_conflict((
            outcomes::clinic_id,
            outcomes::treatment_id,
            outcomes::assessor,
            outcomes::assessed_on,
        ))
        .do_update()
        .set((
            outcomes::gais.eq(excluded(outcomes::gais)),
            outcomes::satisfaction.eq(excluded(outcomes::satisfaction)),
            outcomes::goodman_baron.eq(excluded(outcomes::goodman_baron)),
            outcomes::notes.eq(excluded(outcomes::notes)),
            outcomes::recorded_by_staff.eq(excluded(outcomes::recorded_by_staff)),
            outcomes::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Outcome::as_returning())
        .get_result::<Outcome>(conn)?;
    let is_new = stored.id == new.id;
    Ok((stored, is_new))
}

pub fn get(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    id: OutcomeId,
) -> QueryResult<Outcome> {
    outcomes::table
        .filter(outcomes::clinic_id.eq(tenant.id()))
        .filter(outcomes::treatment_id.eq(treatment_id))
        .filter(outcomes::id.eq(id))
        .select(Outcome::as_select())
        .first(conn)
}

pub fn of_treatment(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
) -> QueryResult<Vec<Outcome>> {
    outcomes::table
        .filter(outcomes::clinic_id.eq(tenant.id()))
        .filter(outcomes::treatment_id.eq(treatment_id))
        .select(Outcome::as_select())
        .order((outcomes::assessed_on, outcomes::created_at))
        .load(conn)
}

/// A protocol's outcomes: (session number, assessor, GAIS, satisfaction), one per treatment and
/// assessor (the latest assessment), so that a treatment counts once however often it is assessed.
pub fn of_protocol(
    conn: &mut PgConnection,
    tenant: Tenant,
    protocol_id: ProtocolId,
) -> QueryResult<Vec<(i32, Assessor, i16, i16)>> {
    outcomes::table
        .inner_join(treatments::table.on(treatments::id.eq(outcomes::treatment_id)))
        .filter(outcomes::clinic_id.eq(tenant.id()))
        .filter(treatments::protocol_id.eq(protocol_id))
        .distinct_on((outcomes::treatment_id, outcomes::assessor))
        .order((
            outcomes::treatment_id,
            outcomes::assessor,
            outcomes::assessed_on.desc(),
            outcomes::created_at.desc(),
        ))
        .select((
            treatments::session_number,
            outcomes::assessor,
            outcomes::gais,
            outcomes::satisfaction,
        ))
        .load(conn)
}
