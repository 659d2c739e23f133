//! The worklist's writes: a note marked read, a treatment's card taken or put back.

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use super::Error;
use crate::db::worklist::Assignment;
use crate::db::{self, Tenant};
use crate::domain::ids::{CheckInId, StaffId, TreatmentId};

/// Marks the check-in's note read by `staff_id`, unless someone read it first: who read it, and
/// when. A 404 when no check-in of the clinic with a note has this id.
pub fn mark_note_read(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: CheckInId,
    staff_id: StaffId,
) -> Result<(StaffId, DateTime<Utc>), Error> {
    db::worklist::mark_read(conn, tenant, id, staff_id, Utc::now())?.ok_or(Error::NotFound)
}

/// Gives the treatment's card to `staff_id` (taking it over from whoever had it), and answers its
/// assignment. A 404 for no such treatment.
pub fn take(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: TreatmentId,
    staff_id: StaffId,
) -> Result<Assignment, Error> {
    db::treatments::get(conn, tenant, id)?;
    db::worklist::assign(conn, tenant, id, staff_id, Utc::now())?;
    let mine = db::worklist::assignments(conn, tenant, &[id])?;
    mine.into_iter().next().ok_or(Error::NotFound)
}

/// Puts the treatment's card back for anyone to take. A 404 for no such treatment.
pub fn release(conn: &mut PgConnection, tenant: Tenant, id: TreatmentId) -> Result<(), Error> {
    db::treatments::get(conn, tenant, id)?;
    Ok(db::worklist::release(conn, tenant, id)?)
}
