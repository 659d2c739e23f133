//! A patient's rights that write: un-enrolling their phones, and erasing their data (GDPR Art. 17)
//! with the FHIR Bulk Data exports holding them. The live-session cache is the caller's to clear.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::Invalid;
use crate::domain::ids::{PatientId, StaffId};

/// Signs out every phone of the patient and drops their push subscriptions, in one transaction.
pub fn unenroll(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
) -> Result<(), Error> {
    conn.transaction(|conn| {
        db::patients::get(conn, tenant, patient_id)?;
        db::push::delete_of_patient(conn, tenant, patient_id)?;
        db::sessions::revoke_all_of_patient(conn, tenant, patient_id, Utc::now())?;
        Ok(())
    })
}

/// What an erasure keeps of itself: why, and when.
pub struct Erased {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Erases the patient's data and the Bulk Data exports holding them, in one transaction, keeping
/// the erasure's record with its reason (1-500 characters, trimmed): see `db::patient_data::erase`.
pub fn erase(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    reason: &str,
    by: StaffId,
) -> Result<Erased, Error> {
    let reason = crate::domain::text::trim(reason).to_string();
    let mut invalid = Invalid::default();
    let n = reason.chars().count();
    invalid.check((1..=500).contains(&n), "reason", "must be 1-500 characters");
    invalid.into_result()?;
    let at = Utc::now();
    db::patients::get(conn, tenant, patient_id)?;
    conn.transaction(|conn| {
        db::patient_data::erase(conn, tenant, patient_id, &reason, by, at)?;
        db::exports::forget_patient(conn, tenant, patient_id.uuid())
    })?;
    Ok(Erased { reason, at })
}
