//! Sign-in for staff (email and password) and patients (an enrollment code), token refresh and
//! logout, and `/v1/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use crate::auth::{self, Caller, Keys, Role};
use crate::db::{self, Pool, Tenant, tokens};
use crate::domain::sessions::{refresh_expiry, session_max};
use crate::error::ApiError;
use crate::limits::Limits;
use crate::sessions::LiveSessions;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@clinic.example", "password": "correct-horse-battery"}))]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
    /// The clinic to sign in to. Needed only when the same email and password are staff at more
    /// than one clinic (the answer is then a 409).
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
}

/// The longest credentials worth checking, in characters (as the document's `maxLength`): an
/// email (RFC 5321), a password (the most one may have), an enrollment code typed with spaces, a
/// refresh token (43 characters). Longer ones are refused before they reach the rate limits or
/// argon2, so what the limits keep is small.
const MAX_EMAIL: usize = 254;
const MAX_PASSWORD: usize = crate::domain::people::MAX_PASSWORD_CHARS;
const MAX_CODE: usize = 32;
const MAX_REFRESH_TOKEN: usize = 64;

fn check_length(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    // Bytes first: a long string is refused without counting its characters.
    if value.len() > max && value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            &format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "K7QM-4XRT-9PWN"}))]
pub struct EnrollRequest {
    /// The code the clinic gave the patient; case, spaces and dashes don't matter.
    #[schema(max_length = 32)]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wPeVg1Tz0m4kA0yWb4j0u0l6a2D8v1wHqN3cX8"}))]
pub struct RefreshRequest {
    #[schema(max_length = 64)]
    pub refresh_token: String,
}

/// A fresh pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tokens {
    /// Send as `Authorization: Bearer <access_token>`; valid for `expires_in` seconds.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    /// Exchange at `/v1/auth/refresh` for new tokens; each refresh token works once.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub role: Role,
    pub clinic_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<Uuid>,
}

/// Who the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub role: Role,
    pub clinic_id: Uuid,
    pub clinic_name: String,
    /// The IANA time zone in which days since treatment are counted.
    pub clinic_timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<Uuid>,
}

/// The session a new refresh token belongs to: its family, when it began, and its client.
pub struct Family {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub client: Option<String>,
}

impl Family {
    /// A new sign-in's session.
    pub fn new(req: &HttpRequest) -> Family {
        let client = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::domain::sessions::client_kind);
        Family {
            id: Uuid::new_v4(),
            started_at: Utc::now(),
            client,
        }
    }
}

/// Issues an access token and a new refresh token in `family`; the refresh token expires no
/// later than the session's absolute end.
fn issue(
    conn: &mut PgConnection,
    keys: &Keys,
    id: Uuid,
    role: Role,
    clinic_id: Uuid,
    family: Family,
) -> Result<Tokens, ApiError> {
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
        staff_id: (!is_patient).then_some(id),
        patient_id: is_patient.then_some(id),
        token_hash: auth::secret_hash(&refresh_token),
        expires_at: refresh_expiry(now, ttl, family.started_at, most),
        used_at: None,
        revoked_at: None,
        family_started_at: family.started_at,
        client: family.client,
    };
    tokens::insert_refresh(conn, Tenant::new(clinic_id), &row)?;
    Ok(Tokens {
        access_token: keys.issue_in_session(id, role, clinic_id, now, Some(family.id))?,
        token_type: "Bearer",
        expires_in: auth::ACCESS_TOKEN_TTL.num_seconds(),
        refresh_token,
        refresh_expires_at: row.expires_at,
        role,
        clinic_id,
        user_id: (!is_patient).then_some(id),
        patient_id: is_patient.then_some(id),
    })
}

fn staff_role(role: &str) -> Role {
    if role == "admin" {
        Role::Admin
    } else {
        Role::Clinician
    }
}

/// Sign in as a staff member.
///
/// An unknown email and a wrong password get the same answer, in the same time. Failed sign-ins
/// slow down the address they come from, for that account only: after 5 in a row it waits 1 s,
/// then 2 s, 4 s... up to 15 minutes. After many from all addresses together, a wrong password
/// gets a 429 for a while; the right one still signs in.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Tokens),
        (status = 401, description = "Wrong email or password", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email and password are staff at more than one clinic: send clinic_id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email or password is longer than any account's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or for this account; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<web::Json<Tokens>, ApiError> {
    check_length("email", &body.email, MAX_EMAIL)?;
    check_length("password", &body.password, MAX_PASSWORD)?;
    let email = crate::domain::people::normalize_email(&body.email);
    let addr = client(&req);
    limits.attempt("login", addr, &email)?;
    let keys = keys.into_inner();
    let account = email.clone();
    let family = Family::new(&req);
    let tokens = db::run(&pool, move |conn| {
        let staff = account_of(conn, &account, &body.password, body.clinic_id)?;
        issue(
            conn,
            &keys,
            staff.id,
            staff_role(&staff.role),
            staff.clinic_id,
            family,
        )
    })
    .await;
    match &tokens {
        Ok(_) => limits.succeeded(&email, addr),
        Err(ApiError::Unauthorized(_)) => {
            limits.failed(&email, addr);
            if let Some(locked) = limits.locked_by_others(&email) {
                return Err(locked);
            }
        }
        Err(_) => {}
    }
    Ok(web::Json(tokens?))
}

/// Staff emails are unique within a clinic, not across clinics (so that no clinic learns who is
/// staff at another), and the password decides which account signs in. Every account with the
/// email is checked, and the dummy hash pads the checks to at least [`PADDED_CHECKS`], so that the
/// time taken doesn't tell whether an address is staff at one clinic or two.
const PADDED_CHECKS: usize = 2;

fn account_of(
    conn: &mut PgConnection,
    email: &str,
    password: &str,
    clinic: Option<Uuid>,
) -> Result<db::staff::Staff, ApiError> {
    let accounts: Vec<db::staff::Staff> = db::staff::all_by_email(conn, email)?
        .into_iter()
        .filter(|s| clinic.is_none_or(|c| c == s.clinic_id))
        .collect();
    let padding = PADDED_CHECKS.saturating_sub(accounts.len());
    for _ in 0..padding {
        auth::verify_password(password, None);
    }
    let mut matching: Vec<db::staff::Staff> = accounts
        .into_iter()
        // A deactivated account is answered as a wrong password, after the same work.
        .filter(|s| auth::verify_password(password, Some(&s.password_hash)) && s.active)
        .collect();
    match matching.len() {
        0 => Err(ApiError::Unauthorized("the email or password is wrong")),
        1 => Ok(matching.remove(0)),
        _ => Err(ApiError::Conflict(
            "this email and password are staff at more than one clinic: name it in clinic_id"
                .into(),
        )),
    }
}

/// The client's address, for rate limits.
fn client(req: &HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Sign in a patient's app with a one-time enrollment code.
#[utoipa::path(
    tag = "auth",
    request_body = EnrollRequest,
    responses(
        (status = 200, description = "The app is enrolled", body = Tokens),
        (status = 401, description = "The code is unknown, used or expired", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is longer than any code", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or for this account; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/auth/enroll")]
pub async fn enroll(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    Json(body): Json<EnrollRequest>,
) -> Result<web::Json<Tokens>, ApiError> {
    check_length("code", &body.code, MAX_CODE)?;
    let keys = keys.into_inner();
    let hash = auth::secret_hash(&auth::normalize_enrollment_code(&body.code));
    limits.attempt("enroll", client(&req), &hex::encode(&hash))?;
    let family = Family::new(&req);
    let tokens = db::run(&pool, move |conn| {
        conn.transaction(|conn| {
            let code = tokens::redeem_enrollment_code(conn, &hash, Utc::now())?.ok_or(
                ApiError::Unauthorized("the enrollment code is unknown, used or expired"),
            )?;
            issue(
                conn,
                &keys,
                code.patient_id,
                Role::Patient,
                code.clinic_id,
                family,
            )
        })
    })
    .await?;
    Ok(web::Json(tokens))
}

/// Exchange a refresh token for new tokens.
///
/// The refresh token given stops working. Presenting one that was already used revokes every token
/// descended from the same sign-in, since one of the two holders must be a thief.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = Tokens),
        (status = 401, description = "The refresh token is unknown, used, revoked or expired", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The refresh token is longer than any refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or for this account; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    sessions: web::Data<LiveSessions>,
    req: HttpRequest,
    Json(body): Json<RefreshRequest>,
) -> Result<web::Json<Tokens>, ApiError> {
    check_length("refresh_token", &body.refresh_token, MAX_REFRESH_TOKEN)?;
    let keys = keys.into_inner();
    let hash = auth::secret_hash(&body.refresh_token);
    limits.attempt("refresh", client(&req), &hex::encode(&hash))?;
    let rejected = ApiError::Unauthorized("the refresh token is unknown, used, revoked or expired");
    let tokens = db::run(&pool, move |conn| rotate(conn, &keys, &hash)).await?;
    if tokens.is_none() {
        sessions.forget_all();
    }
    tokens.map(web::Json).ok_or(rejected)
}

/// Uses up the refresh token with this hash and issues new tokens in its family; None when the
/// token is unknown, used, revoked or expired. A token used already revokes its whole family.
fn rotate(conn: &mut PgConnection, keys: &Keys, hash: &[u8]) -> Result<Option<Tokens>, ApiError> {
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
                staff if staff.active => (id, staff_role(&staff.role)),
                _ => return Ok(None),
            },
            (_, Some(id)) => (id, Role::Patient),
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

/// Sign out: the refresh token given, and every token refreshed from the same sign-in, stop working.
/// A patient's phone signed out is sent no more reminders: the push subscriptions made since its
/// sign-in are dropped.
///
/// Answers 204 whether or not the token was known, so that tokens can't be probed.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"))
)]
#[post("/v1/auth/logout")]
pub async fn logout(
    pool: web::Data<Pool>,
    sessions: web::Data<LiveSessions>,
    caller: Caller,
    Json(body): Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    check_length("refresh_token", &body.refresh_token, MAX_REFRESH_TOKEN)?;
    let hash = auth::secret_hash(&body.refresh_token);
    db::run(&pool, move |conn| {
        conn.transaction(|conn| {
            if let Some(token) = tokens::lock_refresh(conn, &hash)?
                && (token.staff_id == Some(caller.id) || token.patient_id == Some(caller.id))
            {
                tokens::revoke_family(conn, token.family_id, Utc::now())?;
                // The phone signed out is reminded no more.
                if let Some(patient_id) = token.patient_id {
                    let tenant = caller.tenant;
                    db::push::delete_of_session(conn, tenant, patient_id, token.family_id)?;
                }
            }
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    sessions.forget_all();
    Ok(HttpResponse::NoContent().finish())
}

/// Who the access token belongs to.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
#[get("/v1/me")]
pub async fn me(pool: web::Data<Pool>, caller: Caller) -> Result<web::Json<Me>, ApiError> {
    let clinic = db::run(&pool, move |conn| {
        Ok(db::clinics::get(conn, caller.tenant)?)
    })
    .await?;
    let is_patient = caller.role == Role::Patient;
    Ok(web::Json(Me {
        role: caller.role,
        clinic_id: clinic.id,
        clinic_name: clinic.name,
        clinic_timezone: clinic.timezone,
        user_id: (!is_patient).then_some(caller.id),
        patient_id: is_patient.then_some(caller.id),
    }))
}
