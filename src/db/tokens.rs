//! Refresh tokens and enrollment codes, both kept only as hashes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{enrollment_codes, refresh_tokens};
use crate::domain::ids::{ClinicId, PatientId, SessionId, StaffId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: Uuid,
    pub family_id: SessionId,
    pub clinic_id: ClinicId,
    pub staff_id: Option<StaffId>,
    pub patient_id: Option<PatientId>,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the family's sign-in (or enrollment) was: its absolute lifetime counts from here.
    pub family_started_at: DateTime<Utc>,
    pub client: Option<String>,
}

/// A new refresh token; its clinic is the tenant it is issued for.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub family_id: SessionId,
    pub staff_id: Option<StaffId>,
    pub patient_id: Option<PatientId>,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub family_started_at: DateTime<Utc>,
    pub client: Option<String>,
}

pub fn insert_refresh(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewRefreshToken,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((refresh_tokens::clinic_id.eq(tenant.id()), new))
        .execute(conn)
        .map(drop)
}

/// The token with this hash, locked until the transaction ends, so that two concurrent uses of one
/// token can't both succeed.
pub fn lock_refresh(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// No tenant here or in `revoke_family`: the token was found by its secret's hash, before any
/// clinic is known, and the id comes from it.
pub fn mark_used(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)
        .map(drop)
}

pub fn revoke_family(
    conn: &mut PgConnection,
    family_id: SessionId,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .map(drop)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrollment_codes)]
pub struct EnrollmentCode {
    pub id: Uuid,
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub code_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

/// A new enrollment code; its clinic is the tenant it is issued for.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollment_codes)]
pub struct NewEnrollmentCode {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub code_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

/// Stores a new code for a patient; the patient's earlier unused codes stop working: they expire
/// now, and can still be looked up.
pub fn replace_enrollment_code(
    conn: &mut PgConnection,
    tenant: Tenant,
    code: &NewEnrollmentCode,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::update(
            enrollment_codes::table
                .filter(enrollment_codes::clinic_id.eq(tenant.id()))
                .filter(enrollment_codes::patient_id.eq(code.patient_id))
                .filter(enrollment_codes::used_at.is_null())
                .filter(enrollment_codes::expires_at.gt(code.created_at)),
        )
        .set(enrollment_codes::expires_at.eq(code.created_at))
        .execute(conn)?;
        diesel::insert_into(enrollment_codes::table)
            .values((enrollment_codes::clinic_id.eq(tenant.id()), code))
            .execute(conn)?;
        Ok(())
    })
}

/// Marks an unused, unexpired code used and returns it; `None` if there is no such code. No
/// tenant: the code names its clinic.
pub fn redeem_enrollment_code(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<EnrollmentCode>> {
    diesel::update(
        enrollment_codes::table
            .filter(enrollment_codes::code_hash.eq(hash))
            .filter(enrollment_codes::used_at.is_null())
            .filter(enrollment_codes::expires_at.gt(now)),
    )
    .set(enrollment_codes::used_at.eq(now))
    .returning(EnrollmentCode::as_returning())
    .get_result(conn)
    .optional()
}

pub fn get_enrollment_code(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    id: Uuid,
) -> QueryResult<EnrollmentCode> {
    enrollment_codes::table
        .filter(enrollment_codes::clinic_id.eq(tenant.id()))
        .filter(enrollment_codes::patient_id.eq(patient_id))
        .filter(enrollment_codes::id.eq(id))
        .select(EnrollmentCode::as_select())
        .first(conn)
}
