//! The symptom catalogue: shared defaults and each clinic's own items.

use chrono::{DateTime, Utc};
use diesel::dsl::max;
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::symptoms;
use crate::domain::symptoms::SymptomKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = symptoms)]
pub struct Symptom {
    pub clinic_id: Option<Uuid>,
    pub code: String,
    pub label: String,
    pub kind: SymptomKind,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

/// The defaults first, in their fixed order, then the clinic's items in the order they were added.
pub fn catalogue(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<Symptom>> {
    symptoms::table
        .filter(
            symptoms::clinic_id
                .is_null()
                .or(symptoms::clinic_id.eq(tenant.id())),
        )
        .select(Symptom::as_select())
        .order((symptoms::clinic_id.is_not_null(), symptoms::position))
        .load(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, code: &str) -> QueryResult<Symptom> {
    symptoms::table
        .filter(
            symptoms::clinic_id
                .is_null()
                .or(symptoms::clinic_id.eq(tenant.id())),
        )
        .filter(symptoms::code.eq(code))
        .select(Symptom::as_select())
        .first(conn)
}

pub fn insert(
    conn: &mut PgConnection,
    tenant: Tenant,
    code: &str,
    label: &str,
    kind: &str,
) -> QueryResult<Symptom> {
    conn.transaction(|conn| {
        let last: Option<i32> = symptoms::table
            .filter(symptoms::clinic_id.eq(tenant.id()))
            .select(max(symptoms::position))
            .first(conn)?;
        diesel::insert_into(symptoms::table)
            .values((
                symptoms::clinic_id.eq(tenant.id()),
                symptoms::code.eq(code),
                symptoms::label.eq(label),
                symptoms::kind.eq(kind),
                symptoms::position.eq(last.unwrap_or(0) + 1),
            ))
            .returning(Symptom::as_returning())
            .get_result(conn)
    })
}
