//! Outcomes, assessed weeks after a treatment.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{outcomes, treatments};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outcomes)]
pub struct Outcome {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub gais: i16,
    pub satisfaction: i16,
    pub goodman_baron: Option<i16>,
    pub notes: Option<String>,
    pub recorded_by_staff: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Outcome) -> QueryResult<Outcome> {
    diesel::insert_into(outcomes::table)
        .values((outcomes::clinic_id.eq(tenant.id()), new))
        .returning(Outcome::as_returning())
        .get_result(conn)
}

pub fn get(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: Uuid,
    id: Uuid,
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
    treatment_id: Uuid,
) -> QueryResult<Vec<Outcome>> {
    outcomes::table
        .filter(outcomes::clinic_id.eq(tenant.id()))
        .filter(outcomes::treatment_id.eq(treatment_id))
        .select(Outcome::as_select())
        .order((outcomes::assessed_on, outcomes::created_at))
        .load(conn)
}

/// A protocol's outcomes: (session number, assessor, GAIS, satisfaction).
pub fn of_protocol(
    conn: &mut PgConnection,
    tenant: Tenant,
    protocol_id: Uuid,
) -> QueryResult<Vec<(i32, String, i16, i16)>> {
    outcomes::table
        .inner_join(treatments::table.on(treatments::id.eq(outcomes::treatment_id)))
        .filter(outcomes::clinic_id.eq(tenant.id()))
        .filter(treatments::protocol_id.eq(protocol_id))
        .select((
            treatments::session_number,
            outcomes::assessor,
            outcomes::gais,
            outcomes::satisfaction,
        ))
        .load(conn)
}
