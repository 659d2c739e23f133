//! SMART Backend Services clients: their public keys, and the assertions they used.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{fhir_client_assertions, fhir_clients};
use crate::domain::ids::{ClinicId, StaffId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fhir_clients)]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    pub jwks: serde_json::Value,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Client) -> QueryResult<Client> {
    diesel::insert_into(fhir_clients::table)
        .values((fhir_clients::clinic_id.eq(tenant.id()), new))
        .returning(Client::as_returning())
        .get_result(conn)
}

pub fn list(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<Client>> {
    fhir_clients::table
        .filter(fhir_clients::clinic_id.eq(tenant.id()))
        .select(Client::as_select())
        .order((fhir_clients::created_at, fhir_clients::id))
        .load(conn)
}

/// Deletes the clinic's client; false if it has none of this id. Tokens it holds expire within
/// minutes, and it gets no new ones.
pub fn delete(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(
        fhir_clients::table
            .filter(fhir_clients::clinic_id.eq(tenant.id()))
            .filter(fhir_clients::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// A client by its id, of whichever clinic: the token endpoint's way in, before a clinic is known.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(Tenant, Client)>> {
    let row: Option<(ClinicId, Client)> = fhir_clients::table
        .filter(fhir_clients::id.eq(id))
        .select((fhir_clients::clinic_id, Client::as_select()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(clinic, client)| (Tenant::new(clinic), client)))
}

/// Whether a client still exists: a system token stops working when its client is deleted.
pub fn exists(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        fhir_clients::table
            .filter(fhir_clients::clinic_id.eq(tenant.id()))
            .filter(fhir_clients::id.eq(id)),
    ))
    .get_result(conn)
}

/// Takes an assertion's `jti`, kept until the assertion expires; false if the client used it
/// before. Expired ones are dropped on the way.
pub fn take_jti(
    conn: &mut PgConnection,
    client: Uuid,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::delete(
        fhir_client_assertions::table
            .filter(fhir_client_assertions::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)?;
    let n = diesel::insert_into(fhir_client_assertions::table)
        .values((
            fhir_client_assertions::client_id.eq(client),
            fhir_client_assertions::jti.eq(jti),
            fhir_client_assertions::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}
