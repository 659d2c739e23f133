//! Treatment protocols.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::protocols;
use super::{Cursor, PageRequest, Tenant};
use crate::domain::codes::{Area, Procedure};
use crate::domain::ids::ProtocolId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = protocols)]
pub struct Protocol {
    pub id: ProtocolId,
    pub name: String,
    pub procedure: Procedure,
    pub needle_depth_mm: f64,
    pub areas: Vec<Option<Area>>,
    pub sessions_planned: i32,
    pub interval_days: i32,
    pub check_in_days: Vec<Option<i32>>,
    pub aftercare_instructions: String,
    pub created_at: DateTime<Utc>,
    /// The days since treatment on which a photo is asked for (none by default).
    pub photo_days: Vec<Option<i32>>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Protocol) -> QueryResult<Protocol> {
    diesel::insert_into(protocols::table)
        .values((protocols::clinic_id.eq(tenant.id()), new))
        .returning(Protocol::as_returning())
        .get_result(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: ProtocolId) -> QueryResult<Protocol> {
    protocols::table
        .filter(
            protocols::clinic_id
                .eq(tenant.id())
                .and(protocols::id.eq(id)),
        )
        .select(Protocol::as_select())
        .first(conn)
}

pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    page: PageRequest,
) -> QueryResult<Vec<Protocol>> {
    let mut query = protocols::table
        .filter(protocols::clinic_id.eq(tenant.id()))
        .select(Protocol::as_select())
        .order((protocols::created_at, protocols::id))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            protocols::created_at
                .gt(at)
                .or(protocols::created_at.eq(at).and(protocols::id.gt(id))),
        );
    }
    query.load(conn)
}

/// All of a clinic's protocols (a clinic has a handful), for views across them.
pub fn all(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<Protocol>> {
    protocols::table
        .filter(protocols::clinic_id.eq(tenant.id()))
        .select(Protocol::as_select())
        .order((protocols::created_at, protocols::id))
        .load(conn)
}

pub fn by_ids(
    conn: &mut PgConnection,
    tenant: Tenant,
    ids: &[ProtocolId],
) -> QueryResult<Vec<Protocol>> {
    protocols::table
        .filter(protocols::clinic_id.eq(tenant.id()))
        .filter(protocols::id.eq_any(ids))
        .select(Protocol::as_select())
        .load(conn)
}

/// Every clinic's protocols, for the jobs that look across clinics.
pub fn every_clinics(conn: &mut PgConnection) -> QueryResult<Vec<Protocol>> {
    protocols::table.select(Protocol::as_select()).load(conn)
}
