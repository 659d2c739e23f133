//! Signing in and staying signed in: a staff member's password, a patient's enrollment code, the
//! rotation of refresh tokens and signing out. Each issues or revokes the tokens of one session
//! (a family of refresh tokens); limits, cookies and the live-session cache are the caller's.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::Error;
use crate::db::{self, Tenant, tokens};
use crate::domain::clinic::ClinicCode;
use crate::domain::ids::{ClinicId, PatientId, SessionId, StaffId};
use crate::domain::sessions::{refresh_expiry, session_max};
use crate::web::auth::{self, Keys, Role};

/// The clinic a sign-in names, if it names one. A code no clinic can have, or a code and an id of
/// two clinics, name no account: the sign-in is refused as a wrong password is.
pub enum NamedClinic {
    Id(ClinicId),
    Code(ClinicCode),
    Both(ClinicId, ClinicCode),
    Nobody,
}

/// The session a new refresh token belongs to: its family, when it began, and its client.
pub struct Family {
    pub id: SessionId,
    pub started_at: DateTime<Utc>,
    pub client: Option<String>,
}

/// A fresh pair of tokens, and whose they are.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub role: Role,
    pub clinic_id: ClinicId,
    /// The staff member's or the patient's id, as `role` says.
    pub id: Uuid,
}

/// Signs a staff member in with their email and password, in a new session `family`. A 401 for a
/// wrong email or password (or a deactivated account), a 409 for an email that is staff at more
/// than one clinic when no clinic is named.
pub fn staff(
    conn: &mut PgConnection,
    keys: &Keys,
    email: &str,
    password: &str,
    clinic: Option<NamedClinic>,
    family: Family,
) -> Result<Issued, Error> {
    let staff = account_of(conn, email, password, clinic)?;
    let role = Role::from(staff.role);
    issue(conn, keys, staff.id.uuid(), role, staff.clinic_id, family)
}

/// Signs a patient's app in with the hash of a one-time enrollment code, using the code up in the
/// same transaction. A 401 when the code is unknown, used or expired.
pub fn enroll(
    conn: &mut PgConnection,
    keys: &Keys,
    code_hash: &[u8],
    family: Family,
) -> Result<Issued, Error> {
    conn.transaction(|conn| {
        let code = tokens::redeem_enrollment_code(conn, code_hash, Utc::now())?.ok_or(
            Error::Unauthorized("the enrollment code is unknown, used or expired"),
        )?;
        let (patient, clinic) = (code.patient_id, code.clinic_id);
        issue(conn, keys, patient.uuid(), Role::Patient, clinic, family)
    })
}

/// Uses up the refresh token with this hash and issues new tokens in its family; None when the
/// token is unknown, used, revoked or expired. A token used already revokes its whole family.
pub fn refresh(conn: &mut PgConnection, keys: &Keys, hash: &[u8]) -> Result<Option<Issued>, Error> {
    // The transaction commits a revocation before the 401 is returned, so it is kept.
    conn.transaction(|conn| {
        let now = Utc::now();
        let Some(token) = tokens::lock_refresh(conn, hash)? else {
            return Ok(None);
        };
        if token.used_at.is_some() {
            tokens::revoke_family(conn, token.family_id, now)?;
            return Ok(None);
        }
        let most = session_max(token.patient_id.is_some());
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Ok(None);
        }
        if token.family_started_at + most <= now {
            return Ok(None);
        }
        tokens::mark_used(conn, token.id, now)?;
        let tenant = Tenant::new(token.clinic_id);
        let (id, role) = match (token.staff_id, token.patient_id) {
            (Some(id), _) => match db::staff::get(conn, tenant, id)? {
                staff if staff.active => (id.uuid(), Role::from(staff.role)),
                _ => return Ok(None),
            },
            (_, Some(id)) => (id.uuid(), Role::Patient),
            (None, None) => return Ok(None),
        };
        let family = Family {
            id: token.family_id,
            started_at: token.family_started_at,
            client: token.client,
        };
        issue(conn, keys, id, role, token.clinic_id, family).map(Some)
    })
}

/// Signs out the session of the refresh token with this hash, if it is `who`'s: every token of
/// its family stops working, and a patient's phone is sent no more reminders (the push
/// subscriptions made in the session are dropped). Anyone else's token, or none, changes nothing.
pub fn sign_out(
    conn: &mut PgConnection,
    tenant: Tenant,
    who: Uuid,
    hash: &[u8],
) -> Result<(), Error> {
    conn.transaction(|conn| {
        if let Some(token) = tokens::lock_refresh(conn, hash)?
            && (token.staff_id == Some(StaffId::from(who))
                || token.patient_id == Some(PatientId::from(who)))
        {
            tokens::revoke_family(conn, token.family_id, Utc::now())?;
            if let Some(patient_id) = token.patient_id {
                db::push::delete_of_session(conn, tenant, patient_id, token.family_id)?;
            }
        }
        Ok(())
    })
}

/// Issues an access token and a new refresh token in `family`; the refresh token expires no
/// later than the session's absolute end.
fn issue(
    conn: &mut PgConnection,
    keys: &Keys,
    id: Uuid,
    role: Role,
    clinic_id: ClinicId,
    family: Family,
) -> Result<Issued, Error> {
    let now = Utc::now();
    let refresh_token = auth::new_refresh_token();
    let is_patient = role == Role::Patient;
    let ttl = if is_patient {
        auth::PATIENT_REFRESH_TTL
    } else {
        auth::STAFF_REFRESH_TTL
    };
    let most = session_max(is_patient);
    let row = tokens::NewRefreshToken {
        id: Uuid::new_v4(),
        family_id: family.id,
        staff_id: (!is_patient).then_some(StaffId::from(id)),
        patient_id: is_patient.then_some(PatientId::from(id)),
        token_hash: auth::secret_hash(&refresh_token),
        expires_at: refresh_expiry(now, ttl, family.started_at, most),
        used_at: None,
        revoked_at: None,
        family_started_at: family.started_at,
        client: family.client,
    };
    tokens::insert_refresh(conn, Tenant::new(clinic_id), &row)?;
    Ok(Issued {
        access_token: keys.issue_in_session(
            id,
            role,
            clinic_id.uuid(),
            now,
            Some(family.id.uuid()),
        )?,
        refresh_token,
        refresh_expires_at: row.expires_at,
        role,
        clinic_id,
        id,
    })
}

/// Staff emails are unique within a clinic, not across clinics (so that no clinic learns who is
/// staff at another). A sign-in checks one account's password, never another clinic's: the
/// email's account at the clinic named, or its only one. Which account that is, or that the email
/// needs a clinic named (a 409), is decided by the email and the clinic alone, so no answer tells
/// how a password fares at an account other than the one signed in to. Every answer costs one
/// password check (the dummy hash when there is no account to check), so the time taken doesn't
/// tell either.
fn account_of(
    conn: &mut PgConnection,
    email: &str,
    password: &str,
    clinic: Option<NamedClinic>,
) -> Result<db::staff::Staff, Error> {
    let accounts = db::staff::all_by_email(conn, email)?;
    let account = match clinic {
        None if accounts.len() > 1 => {
            auth::verify_password(password, None);
            return Err(Error::Conflict(
                "this email is staff at more than one clinic: name your clinic with its clinic code (clinic)"
                    .into(),
            ));
        }
        None => accounts.into_iter().next(),
        Some(NamedClinic::Id(id)) => accounts.into_iter().find(|s| s.clinic_id == id),
        Some(NamedClinic::Code(code)) => match db::clinics::id_by_code(conn, code.as_str())? {
            Some(id) => accounts.into_iter().find(|s| s.clinic_id == id),
            None => None,
        },
        Some(NamedClinic::Both(id, code)) => {
            let same = db::clinics::id_by_code(conn, code.as_str())? == Some(id);
            accounts.into_iter().find(|s| same && s.clinic_id == id)
        }
        Some(NamedClinic::Nobody) => None,
    };
    let hash = account.as_ref().map(|s| s.password_hash.as_str());
    let right = auth::verify_password(password, hash);
    match account {
        // A deactivated account is answered as a wrong password, after the same work.
        Some(staff) if right && staff.active => Ok(staff),
        _ => Err(Error::Unauthorized("the email or password is wrong")),
    }
}
