//! Subscribing a patient's phone to push reminders, and unsubscribing it.

use diesel::PgConnection;
use uuid::Uuid;

use super::Error;
use crate::db::push::{NewSubscription, Subscription};
use crate::db::{self, Tenant};
use crate::domain::ids::PatientId;

/// Stores the (checked) subscription, or refreshes the patient's one of the same endpoint; true
/// when it is new.
pub fn subscribe(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewSubscription,
) -> Result<(Subscription, bool), Error> {
    Ok(db::push::subscribe(conn, tenant, new)?)
}

/// Removes the patient's subscription; a 404 when they have no such subscription (another
/// patient's included).
pub fn unsubscribe(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    id: Uuid,
) -> Result<(), Error> {
    if db::push::delete(conn, tenant, patient_id, id)? == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}
