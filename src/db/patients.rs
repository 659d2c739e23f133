//! Patients.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::patients;
use super::{Cursor, PageRequest, Tenant};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patients)]
pub struct Patient {
    pub id: Uuid,
    pub external_ref: String,
    pub display_name: Option<String>,
    pub birth_year: Option<i32>,
    pub fitzpatrick_type: Option<i16>,
    pub concerns: Vec<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The record number as compared: look-alikes share it (`domain::text::record_key`).
    pub external_ref_key: String,
}

/// A partial update: `None` leaves a column as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = patients)]
pub struct PatientChanges {
    pub external_ref: Option<String>,
    pub external_ref_key: Option<String>,
    pub display_name: Option<Option<String>>,
    pub birth_year: Option<Option<i32>>,
    pub fitzpatrick_type: Option<Option<i16>>,
    pub concerns: Option<Vec<Option<String>>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Patient) -> QueryResult<Patient> {
    diesel::insert_into(patients::table)
        .values((patients::clinic_id.eq(tenant.id()), new))
        .returning(Patient::as_returning())
        .get_result(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<Patient> {
    patients::table
        .filter(patients::clinic_id.eq(tenant.id()).and(patients::id.eq(id)))
        .select(Patient::as_select())
        .first(conn)
}

pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: Uuid,
    changes: &PatientChanges,
) -> QueryResult<Patient> {
    diesel::update(
        patients::table.filter(patients::clinic_id.eq(tenant.id()).and(patients::id.eq(id))),
    )
    .set(changes)
    .returning(Patient::as_returning())
    .get_result(conn)
}

pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    page: PageRequest,
) -> QueryResult<Vec<Patient>> {
    let mut query = patients::table
        .filter(patients::clinic_id.eq(tenant.id()))
        .select(Patient::as_select())
        .order((patients::created_at, patients::id))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            patients::created_at
                .gt(at)
                .or(patients::created_at.eq(at).and(patients::id.gt(id))),
        );
    }
    query.load(conn)
}
