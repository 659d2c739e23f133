//! Registering a patient, changing their details, and issuing the one-time code that enrolls
//! their phone.

use chrono::Utc;
use diesel::PgConnection;
use uuid::Uuid;

use super::Error;
use crate::db::patients::{Patient, PatientChanges};
use crate::db::tokens::NewEnrollmentCode;
use crate::db::{self, Tenant};
use crate::domain::ids::{PatientId, StaffId};
use crate::web::auth;

/// Stores the clinic's new patient (checked into its row by the caller); a conflict when the
/// external_ref is taken.
pub fn register(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient: &Patient,
) -> Result<Patient, Error> {
    Ok(db::patients::insert(conn, tenant, patient)?)
}

/// Applies the (checked) changes to the patient's details.
pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: PatientId,
    changes: &PatientChanges,
) -> Result<Patient, Error> {
    Ok(db::patients::update(conn, tenant, id, changes)?)
}

/// Issues a new enrollment code for the patient, valid for [`auth::ENROLLMENT_CODE_TTL`]; those
/// issued before and not yet used stop working. The stored code (its hash) and the code itself,
/// which is shown once. A 404 for no such patient.
pub fn issue_enrollment_code(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    staff_id: StaffId,
) -> Result<(NewEnrollmentCode, String), Error> {
    let code = auth::new_enrollment_code();
    let now = Utc::now();
    let row = NewEnrollmentCode {
        id: Uuid::new_v4(),
        patient_id,
        code_hash: auth::secret_hash(&auth::normalize_enrollment_code(&code)),
        expires_at: now + auth::ENROLLMENT_CODE_TTL,
        used_at: None,
        created_by: staff_id,
        created_at: now,
    };
    db::patients::get(conn, tenant, patient_id)?;
    db::tokens::replace_enrollment_code(conn, tenant, &row)?;
    Ok((row, code))
}
