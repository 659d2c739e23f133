//! Writing the audit trail's records of the requests that read or changed patient data.

use diesel::PgConnection;

use super::Error;
use crate::db::audit::Event;
use crate::db::{self, Tenant};

/// Stores the records, all or none.
pub fn record(conn: &mut PgConnection, tenant: Tenant, events: &[Event]) -> Result<(), Error> {
    Ok(db::audit::insert_all(conn, tenant, events)?)
}
