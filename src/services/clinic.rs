//! Changing the clinic's settings.

use diesel::PgConnection;

use super::Error;
use crate::db::clinics::{Changes, Clinic};
use crate::db::{self, Tenant};

/// Applies the (checked) changes to the clinic's settings.
pub fn update(conn: &mut PgConnection, tenant: Tenant, changes: &Changes) -> Result<Clinic, Error> {
    Ok(db::clinics::update(conn, tenant, changes)?)
}
