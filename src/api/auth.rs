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
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "K7QM-4XRT-9PWN"}))]
pub struct EnrollRequest {
    /// The code the clinic gave the patient; case, spaces and dashes don't matter.
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wPeVg1Tz0m4kA0yWb4j0u0l6a2D8v1wHqN3cX8"}))]
pub struct RefreshRequest {
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
/// An unknown email and a wrong password get the same answer, in the same time.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Tokens),
        (status = 401, description = "Wrong email or password", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let email = crate::domain::people::normalize_email(&body.email);
    limits.attempt("login", client(&req), &email)?;
    let keys = keys.into_inner();
    let account = email.clone();
    let family = Family::new(&req);
    let tokens = db::run(&pool, move |conn| {
        // A deactivated account is answered as a wrong password, after the same work.
        let staff = db::staff::find_by_email(conn, &account)?.filter(|s| s.active);
        if !auth::verify_password(
            &body.password,
            staff.as_ref().map(|s| s.password_hash.as_str()),
        ) {
            return Err(ApiError::Unauthorized("the email or password is wrong"));
        }
        let staff = staff.ok_or(ApiError::Unauthorized("the email or password is wrong"))?;
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
        Ok(_) => limits.succeeded(&email),
        Err(ApiError::Unauthorized(_)) => limits.failed(&email),
        Err(_) => {}
    }
    Ok(web::Json(tokens?))
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
    let hash = auth::secret_hash(&body.refresh_token);
    db::run(&pool, move |conn| {
        conn.transaction(|conn| {
            if let Some(token) = tokens::lock_refresh(conn, &hash)?
                && (token.staff_id == Some(caller.id) || token.patient_id == Some(caller.id))
            {
                tokens::revoke_family(conn, token.family_id, Utc::now())?;
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
