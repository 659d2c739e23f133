//! Accounts that end and passwords that change: deactivating and reactivating staff, a staff
//! member's own password change, and the one-time reset tokens an admin issues. Each ends the
//! sessions it should in the same transaction; the live-session cache is the caller's to clear.

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::Invalid;
use crate::domain::ids::{SessionId, StaffId};
use crate::domain::people::{StaffRole, check_password};
use crate::web::auth;

/// How long a reset token works: long enough to hand it over, short enough to be harmless if lost.
pub const RESET_TTL: Duration = Duration::hours(1);

/// Deactivates a staff member and ends their sessions, in one transaction. The clinic's last
/// active admin is a 409.
pub fn deactivate(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: StaffId,
) -> Result<db::staff::Staff, Error> {
    conn.transaction(|conn| {
        let staff = db::staff::get(conn, tenant, id)?;
        if staff.role == StaffRole::Admin && staff.active {
            let admins = db::staff::lock_active_admins(conn, tenant)?;
            if admins.len() <= 1 {
                return Err(Error::Conflict(
                    "the clinic's last active admin can't be deactivated".into(),
                ));
            }
        }
        let staff = db::staff::set_active(conn, tenant, id, false)?;
        db::sessions::revoke_all_of_staff(conn, tenant, id, None, Utc::now())?;
        Ok(staff)
    })
}

/// Reactivates a staff member, who can then sign in again.
pub fn reactivate(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: StaffId,
) -> Result<db::staff::Staff, Error> {
    Ok(db::staff::set_active(conn, tenant, id, true)?)
}

/// Changes a staff member's own password, given the current one: a 403 when it is wrong (not a
/// 401: the access token is fine, and a client would take a 401 to mean sign in again). Every
/// session of theirs but `keep` ends.
pub fn change_password(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    current: &str,
    new: &str,
    keep: Option<SessionId>,
) -> Result<(), Error> {
    let staff = db::staff::get(conn, tenant, staff_id)?;
    if !auth::verify_password(current, Some(&staff.password_hash)) {
        return Err(Error::Forbidden);
    }
    set_password(conn, &staff, new, keep)
}

/// A reset token just issued: the token itself is shown once, only its hash is stored.
pub struct IssuedReset {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues a one-time reset token for a staff member of the clinic, replacing any unused one.
pub fn issue_reset(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    admin_id: StaffId,
) -> Result<IssuedReset, Error> {
    let token = auth::new_refresh_token();
    let now = Utc::now();
    let row = db::sessions::NewPasswordReset {
        id: Uuid::new_v4(),
        staff_id,
        token_hash: auth::secret_hash(&token),
        expires_at: now + RESET_TTL,
        created_by: admin_id,
        created_at: now,
    };
    db::staff::get(conn, tenant, staff_id)?;
    db::sessions::insert_reset(conn, tenant, &row)?;
    Ok(IssuedReset {
        token,
        expires_at: row.expires_at,
    })
}

/// Uses up the reset token with this hash and sets the new password, ending every session of the
/// account, in one transaction: a refused password leaves the token usable. A 401 when the token
/// is unknown, used or expired, or its account is inactive.
pub fn redeem_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
    password: &str,
) -> Result<db::staff::Staff, Error> {
    conn.transaction(|conn| {
        let (clinic, staff_id) = db::sessions::redeem_reset(conn, token_hash, Utc::now())?.ok_or(
            Error::Unauthorized("the reset token is unknown, used or expired"),
        )?;
        let staff = db::staff::get(conn, Tenant::new(clinic), staff_id)?;
        if !staff.active {
            return Err(Error::Unauthorized(
                "the reset token is unknown, used or expired",
            ));
        }
        set_password(conn, &staff, password, None)?;
        Ok(staff)
    })
}

/// Ends one of a staff member's sessions; false when they have no such session.
pub fn revoke_session(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    session_id: SessionId,
) -> Result<bool, Error> {
    let now = Utc::now();
    Ok(db::sessions::revoke_staff_session(
        conn, tenant, staff_id, session_id, now,
    )?)
}

/// Checks and stores a staff member's new password, and ends their sessions but `keep`.
fn set_password(
    conn: &mut PgConnection,
    staff: &db::staff::Staff,
    password: &str,
    keep: Option<SessionId>,
) -> Result<(), Error> {
    let mut invalid = Invalid::default();
    check_password(
        &mut invalid,
        "new_password",
        password,
        &[&staff.email, &staff.name],
    );
    invalid.into_result()?;
    let tenant = Tenant::new(staff.clinic_id);
    let hash = auth::hash_password(password)?;
    conn.transaction(|conn| {
        db::staff::set_password_hash(conn, tenant, staff.id, &hash)?;
        db::sessions::revoke_all_of_staff(conn, tenant, staff.id, keep, Utc::now())?;
        Ok(())
    })
}
