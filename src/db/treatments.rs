//! Treatment sessions.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::schema::{check_ins, treatments};
use super::{Cursor, PageRequest, Tenant};
use crate::domain::codes::Area;
use crate::domain::ids::{PatientId, ProtocolId, StaffId, TreatmentId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = treatments)]
pub struct Treatment {
    pub id: TreatmentId,
    pub patient_id: PatientId,
    pub protocol_id: ProtocolId,
    pub performed_at: DateTime<Utc>,
    pub needle_depth_mm: f64,
    pub areas: Vec<Option<Area>>,
    pub session_number: i32,
    pub contraindications: serde_json::Value,
    pub override_reason: Option<String>,
    pub notes: Option<String>,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Treatment) -> QueryResult<Treatment> {
    diesel::insert_into(treatments::table)
        .values((treatments::clinic_id.eq(tenant.id()), new))
        .returning(Treatment::as_returning())
        .get_result(conn)
}

/// How many sessions of this protocol the patient had before `before`.
pub fn sessions_before(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    protocol_id: ProtocolId,
    before: DateTime<Utc>,
) -> QueryResult<i64> {
    treatments::table
        .filter(treatments::clinic_id.eq(tenant.id()))
        .filter(treatments::patient_id.eq(patient_id))
        .filter(treatments::protocol_id.eq(protocol_id))
        .filter(treatments::performed_at.lt(before))
        .select(count_star())
        .first(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: TreatmentId) -> QueryResult<Treatment> {
    treatments::table
        .filter(
            treatments::clinic_id
                .eq(tenant.id())
                .and(treatments::id.eq(id)),
        )
        .select(Treatment::as_select())
        .first(conn)
}

/// Those of these treatments that are the patient's.
pub fn of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    ids: &[TreatmentId],
) -> QueryResult<Vec<Treatment>> {
    treatments::table
        .filter(treatments::clinic_id.eq(tenant.id()))
        .filter(treatments::patient_id.eq(patient_id))
        .filter(treatments::id.eq_any(ids))
        .select(Treatment::as_select())
        .load(conn)
}

/// A patient's treatments, newest first.
pub fn page_of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    page: PageRequest,
) -> QueryResult<Vec<Treatment>> {
    let mut query = treatments::table
        .filter(treatments::clinic_id.eq(tenant.id()))
        .filter(treatments::patient_id.eq(patient_id))
        .select(Treatment::as_select())
        .order((treatments::performed_at.desc(), treatments::id.desc()))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            treatments::performed_at
                .lt(at)
                .or(treatments::performed_at.eq(at).and(treatments::id.lt(id))),
        );
    }
    query.load(conn)
}

/// The days since treatment on which at least one check-in was recorded.
pub fn days_checked_in(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
) -> QueryResult<Vec<i32>> {
    check_ins::table
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(check_ins::treatment_id.eq(treatment_id))
        .select(check_ins::day)
        .distinct()
        .order(check_ins::day)
        .load(conn)
}
