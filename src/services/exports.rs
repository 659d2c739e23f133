//! Starting a FHIR Bulk Data export (the workers build its files), and cancelling one.

use diesel::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::Error;
use crate::db::exports::{Export, Owner};
use crate::db::{self, Tenant};

/// How long a second export of the clinic is told to wait before it asks again, in seconds.
const RETRY_WHEN_BUSY: u64 = 30;

/// Queues the export; busy while another of the clinic's runs (one at a time).
pub fn start(conn: &mut PgConnection, tenant: Tenant, new: &Export) -> Result<Export, Error> {
    db::exports::insert(conn, tenant, new).map_err(|e| match &e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("fhir_exports_one_at_a_time") =>
        {
            Error::Busy(RETRY_WHEN_BUSY)
        }
        _ => e.into(),
    })
}

/// Cancels a running export of `owner`'s, or deletes a finished one's files; a 404 when they have
/// no such export.
pub fn cancel(
    conn: &mut PgConnection,
    tenant: Tenant,
    owner: Owner,
    id: Uuid,
) -> Result<(), Error> {
    if !db::exports::cancel(conn, tenant, owner, id)? {
        return Err(Error::NotFound);
    }
    Ok(())
}
