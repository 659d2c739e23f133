//! Complications recorded against treatments.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{adverse_events, treatments};
use crate::domain::codes::AdverseOutcome;
use crate::domain::ids::{AdverseEventId, PatientId, ProtocolId, StaffId, TreatmentId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = adverse_events)]
pub struct AdverseEvent {
    pub id: AdverseEventId,
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub term: String,
    pub grade: i16,
    pub serious: bool,
    pub onset_date: NaiveDate,
    pub outcome: AdverseOutcome,
    pub notes: Option<String>,
    pub recorded_by: StaffId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Changes to a complication: None leaves a field as it is; `notes: Some(None)` clears the notes.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = adverse_events)]
pub struct Changes {
    pub term: Option<String>,
    pub grade: Option<i16>,
    pub serious: Option<bool>,
    pub onset_date: Option<NaiveDate>,
    pub outcome: Option<AdverseOutcome>,
    pub notes: Option<Option<String>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn insert(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &AdverseEvent,
) -> QueryResult<AdverseEvent> {
    diesel::insert_into(adverse_events::table)
        .values((adverse_events::clinic_id.eq(tenant.id()), new))
        .returning(AdverseEvent::as_returning())
        .get_result(conn)
}

pub fn of_treatment(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
) -> QueryResult<Vec<AdverseEvent>> {
    adverse_events::table
        .filter(adverse_events::clinic_id.eq(tenant.id()))
        .filter(adverse_events::treatment_id.eq(treatment_id))
        .select(AdverseEvent::as_select())
        .order((adverse_events::created_at, adverse_events::id))
        .load(conn)
}

pub fn get(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    id: AdverseEventId,
) -> QueryResult<AdverseEvent> {
    adverse_events::table
        .filter(adverse_events::clinic_id.eq(tenant.id()))
        .filter(adverse_events::treatment_id.eq(treatment_id))
        .filter(adverse_events::id.eq(id))
        .select(AdverseEvent::as_select())
        .first(conn)
}

pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    id: AdverseEventId,
    changes: &Changes,
) -> QueryResult<AdverseEvent> {
    diesel::update(
        adverse_events::table
            .filter(adverse_events::clinic_id.eq(tenant.id()))
            .filter(adverse_events::treatment_id.eq(treatment_id))
            .filter(adverse_events::id.eq(id)),
    )
    .set(changes)
    .returning(AdverseEvent::as_returning())
    .get_result(conn)
}

/// The complications of a protocol's treatments: (treatment, term, grade).
pub fn of_protocol(
    conn: &mut PgConnection,
    tenant: Tenant,
    protocol_id: ProtocolId,
) -> QueryResult<Vec<(Uuid, String, i16)>> {
    adverse_events::table
        .inner_join(treatments::table.on(treatments::id.eq(adverse_events::treatment_id)))
        .filter(adverse_events::clinic_id.eq(tenant.id()))
        .filter(treatments::protocol_id.eq(protocol_id))
        .select((
            adverse_events::treatment_id,
            adverse_events::term,
            adverse_events::grade,
        ))
        .load(conn)
}
