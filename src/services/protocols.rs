//! Creating a treatment protocol (checked into its row by the caller).

use diesel::PgConnection;

use super::Error;
use crate::db::protocols::Protocol;
use crate::db::{self, Tenant};

/// Stores the clinic's new protocol; a conflict when it has one of this name.
pub fn create(
    conn: &mut PgConnection,
    tenant: Tenant,
    protocol: &Protocol,
) -> Result<Protocol, Error> {
    Ok(db::protocols::insert(conn, tenant, protocol)?)
}
