//! Registering and removing the clinic's FHIR system clients.

use diesel::PgConnection;
use uuid::Uuid;

use super::Error;
use crate::db::fhir_clients::Client;
use crate::db::{self, Tenant};

/// Stores the clinic's new system client.
pub fn register(conn: &mut PgConnection, tenant: Tenant, client: &Client) -> Result<Client, Error> {
    Ok(db::fhir_clients::insert(conn, tenant, client)?)
}

/// Removes the client: it gets no more tokens, and those it holds stop working. A 404 when the
/// clinic has no such client.
pub fn remove(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> Result<(), Error> {
    if !db::fhir_clients::delete(conn, tenant, id)? {
        return Err(Error::NotFound);
    }
    Ok(())
}
