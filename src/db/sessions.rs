//! Sessions (a refresh-token family: one sign-in and every token refreshed from it) and one-time
//! password resets: listing, revoking, and whether an access token's session still stands.

use chrono::{DateTime, Utc};
use diesel::dsl::{max, min};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{password_resets, refresh_tokens};
use crate::domain::ids::{ClinicId, PatientId, SessionId, StaffId};

/// One sign-in's session, as staff see it: never a token.
#[derive(Debug, Clone, Queryable)]
pub struct Session {
    pub id: SessionId,
    pub started_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub client: Option<String>,
}

/// A family's id, start, last use, expiry and client, as aggregated (None only on no rows).
type SessionRow = (
    SessionId,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// Whether the session still stands: a token of its family is not revoked. No tenant: the
/// family id comes from an access token this service signed. Every revocation (sign-out, a reused
/// token, deactivation, a password change, an un-enrolled phone) revokes the whole family.
pub fn is_live(conn: &mut PgConnection, family_id: SessionId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    ))
    .get_result(conn)
}

/// A staff member's sessions that can still be refreshed, oldest first.
pub fn of_staff(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Session>> {
    let live: Vec<SessionId> = refresh_tokens::table
        .filter(refresh_tokens::clinic_id.eq(tenant.id()))
        .filter(refresh_tokens::staff_id.eq(staff_id))
        .filter(refresh_tokens::revoked_at.is_null())
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(now))
        .select(refresh_tokens::family_id)
        .load(conn)?;
    let mut sessions: Vec<SessionRow> = refresh_tokens::table
        .filter(refresh_tokens::clinic_id.eq(tenant.id()))
        .filter(refresh_tokens::family_id.eq_any(&live))
        .group_by(refresh_tokens::family_id)
        .select((
            refresh_tokens::family_id,
            min(refresh_tokens::family_started_at),
            max(refresh_tokens::created_at),
            max(refresh_tokens::expires_at),
            max(refresh_tokens::client),
        ))
        .load(conn)?;
    sessions.sort_by_key(|s| (s.1, s.0));
    Ok(sessions
        .into_iter()
        .filter_map(|(id, started, last, expires, client)| {
            Some(Session {
                id,
                started_at: started?,
                last_used_at: last?,
                expires_at: expires?,
                client,
            })
        })
        .collect())
}

/// Revokes one of a staff member's sessions; false when the staff member has no such session.
/// Revoking a revoked session again changes nothing and is not an error.
pub fn revoke_staff_session(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    family_id: SessionId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let of_staff = refresh_tokens::clinic_id
        .eq(tenant.id())
        .and(refresh_tokens::staff_id.eq(staff_id))
        .and(refresh_tokens::family_id.eq(family_id));
    let found: bool = diesel::select(diesel::dsl::exists(refresh_tokens::table.filter(of_staff)))
        .get_result(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(of_staff)
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(found)
}

/// Revokes every session of a staff member but `keep` (the caller's own, when they change their
/// password).
pub fn revoke_all_of_staff(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    keep: Option<SessionId>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::clinic_id.eq(tenant.id()))
            .filter(refresh_tokens::staff_id.eq(staff_id))
            .filter(refresh_tokens::family_id.ne(keep.map_or(Uuid::nil(), SessionId::uuid)))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every session of a patient's phones.
pub fn revoke_all_of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::clinic_id.eq(tenant.id()))
            .filter(refresh_tokens::patient_id.eq(patient_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = password_resets)]
pub struct NewPasswordReset {
    pub id: Uuid,
    pub staff_id: StaffId,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

/// Stores a reset token; the staff member's earlier unused ones stop working.
pub fn insert_reset(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewPasswordReset,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::update(
            password_resets::table
                .filter(password_resets::clinic_id.eq(tenant.id()))
                .filter(password_resets::staff_id.eq(new.staff_id))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(new.created_at)),
        )
        .set(password_resets::expires_at.eq(new.created_at))
        .execute(conn)?;
        diesel::insert_into(password_resets::table)
            .values((password_resets::clinic_id.eq(tenant.id()), new))
            .execute(conn)
            .map(drop)
    })
}

/// Uses up an unused, unexpired reset token: its clinic and staff member, or None. No tenant: the
/// token names its clinic.
pub fn redeem_reset(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<(ClinicId, StaffId)>> {
    diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    )
    .set(password_resets::used_at.eq(now))
    .returning((password_resets::clinic_id, password_resets::staff_id))
    .get_result(conn)
    .optional()
}
