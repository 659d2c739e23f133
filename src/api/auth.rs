//! Sign-in for staff (email and password) and patients (an enrollment code), token refresh and
//! logout, and `/v1/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use crate::config::HttpSettings;
use crate::db::{self, Pool, Tenant, tokens};
use crate::domain::clinic::ClinicCode;
use crate::domain::sessions::{refresh_expiry, session_max};
use crate::error::ApiError;
use crate::web::auth::sessions::LiveSessions;
use crate::web::auth::{self, Caller, Keys, Role};
use crate::web::limits::{Limits, Signer};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@clinic.example", "password": "correct-horse-battery", "clinic": "K7QM4X"}))]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
    /// The code of the clinic to sign in to (admins find it in `GET /v1/clinic`); case, spaces
    /// and dashes don't matter. Needed only when the email is staff at more than one clinic (the
    /// answer is then a 409); when given, only that clinic's account is checked.
    #[serde(default)]
    #[schema(max_length = 32, pattern = "^[A-Za-z0-9 -]+$")]
    pub clinic: Option<String>,
    /// The clinic to sign in to, by its id: as `clinic`, which is easier to type. Given both, they
    /// must name the same clinic.
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
}

/// The clinic a sign-in names, if it names one. A code no clinic can have, or a code and an id of
/// two clinics, name no account: the sign-in is refused as a wrong password is.
enum NamedClinic {
    Id(Uuid),
    Code(ClinicCode),
    Both(Uuid, ClinicCode),
    Nobody,
}

impl LoginRequest {
    fn named_clinic(&self) -> Result<Option<NamedClinic>, ApiError> {
        let code = match &self.clinic {
            Some(c) if c.chars().count() > 32 => {
                return Err(ApiError::invalid(
                    "clinic",
                    "is longer than any clinic code",
                ));
            }
            Some(c) => Some(ClinicCode::parse(c).ok()),
            None => None,
        };
        Ok(match (code, self.clinic_id) {
            (None, None) => None,
            (None, Some(id)) => Some(NamedClinic::Id(id)),
            (Some(Some(code)), None) => Some(NamedClinic::Code(code)),
            (Some(Some(code)), Some(id)) => Some(NamedClinic::Both(id, code)),
            (Some(None), _) => Some(NamedClinic::Nobody),
        })
    }
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
/// A sign-in checks the password of one account only: the email's at the clinic named by `clinic`
/// (or `clinic_id`), or, when none is named, its only account. An email that is staff at more than
/// one clinic must name the clinic: without one the answer is a 409, whatever the password. An
/// unknown email, an unknown clinic and a wrong password get the same answer, in the same time.
///
/// Failed sign-ins slow down the client address they come from, for that account only: after 5 in a row it waits
/// 1 s, then 2 s, 4 s... up to 15 minutes. After 20 from all addresses together, the account is
/// locked for a doubling while against every client that has not signed in to it before: during
/// that lock the right password and a wrong one both get the 429, so it tells nothing.
///
/// A signed-in browser is given an `aftercare_device` cookie (HttpOnly, SameSite=Strict, sent only
/// to this route) naming the accounts signed in from it. A sign-in that presents it for its account
/// is slowed only by that device's own failures, never by others': whoever else fails, the user
/// signs in from a browser they used before.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Tokens,
            headers(("Set-Cookie" = String, description = "`aftercare_device`: this browser signed in to this account before (and to up to 3 others)"))),
        (status = 401, description = "Wrong email or password", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is staff at more than one clinic and no clinic is named: send the clinic's code in `clinic`. Decided by the email alone, before any password is checked", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email or password is longer than any account's, or `clinic` is longer than any clinic code", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or for this account; retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    pool: web::Data<Pool>,
    keys: web::Data<Keys>,
    limits: web::Data<Limits>,
    http: web::Data<HttpSettings>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    check_length("email", &body.email, MAX_EMAIL)?;
    check_length("password", &body.password, MAX_PASSWORD)?;
    let clinic = body.named_clinic()?;
    let email = crate::domain::people::normalize_email(&body.email);
    let now = Utc::now();
    let devices = known_devices(&req, &keys, now);
    let known = devices.iter().find(|d| d.account == email);
    let who = match known {
        Some(d) => Signer::Device(d.device.clone()),
        None => Signer::Address(client(&req)),
    };
    limits.sign_in(&email, &who)?;
    let keys = keys.into_inner();
    let device_keys = keys.clone();
    let account = email.clone();
    let family = Family::new(&req);
    let tokens = db::run(&pool, move |conn| {
        let staff = account_of(conn, &account, &body.password, clinic)?;
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
        Ok(_) => limits.sign_in_succeeded(&email, &who),
        Err(ApiError::Unauthorized(_)) => limits.sign_in_failed(&email, &who),
        Err(_) => {}
    }
    let tokens = tokens?;
    let secure = http
        .public_url
        .as_ref()
        .map_or(req.app_config().secure(), |u| {
            u.as_str().starts_with("https:")
        });
    let cookie = device_cookie(&device_keys, &email, &devices, secure, now);
    Ok(HttpResponse::Ok().cookie(cookie).json(tokens))
}

/// The device cookie: remembers that this browser signed in, as the devices the limits trust.
const DEVICE_COOKIE: &str = "aftercare_device";
/// How long a browser stays known after its last sign-in.
const DEVICE_TTL: chrono::Duration = chrono::Duration::days(180);
/// The most accounts one cookie names (a clinic's shared computer): each token is under 400 bytes,
/// so the cookie stays under browsers' 4 KB.
const DEVICE_ACCOUNTS: usize = 4;

/// The accounts the request's device cookie names, with good signatures and not expired.
fn known_devices(req: &HttpRequest, keys: &Keys, now: DateTime<Utc>) -> Vec<auth::DeviceToken> {
    req.cookie(DEVICE_COOKIE)
        .map(|c| {
            c.value()
                .split('~')
                .take(DEVICE_ACCOUNTS)
                .filter_map(|t| keys.device_of(t, now))
                .collect()
        })
        .unwrap_or_default()
}

/// The device cookie after `account` signed in: its token first (the same device id as before,
/// if it had one), then the other accounts this browser knows, most recent first.
fn device_cookie(
    keys: &Keys,
    account: &str,
    known: &[auth::DeviceToken],
    secure: bool,
    now: DateTime<Utc>,
) -> actix_web::cookie::Cookie<'static> {
    let device = known
        .iter()
        .find(|d| d.account == account)
        .map_or_else(auth::new_device_id, |d| d.device.clone());
    let mine = keys.device_token(account, &device, now + DEVICE_TTL);
    let others = known
        .iter()
        .filter(|d| d.account != account)
        .map(|d| keys.device_token(&d.account, &d.device, d.expires));
    let value = std::iter::once(mine)
        .chain(others)
        .take(DEVICE_ACCOUNTS)
        .collect::<Vec<_>>()
        .join("~");
    actix_web::cookie::Cookie::build(DEVICE_COOKIE, value)
        .path("/v1/auth/login")
        .max_age(actix_web::cookie::time::Duration::seconds(
            DEVICE_TTL.num_seconds(),
        ))
        .http_only(true)
        .secure(secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish()
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
) -> Result<db::staff::Staff, ApiError> {
    let accounts = db::staff::all_by_email(conn, email)?;
    let account = match clinic {
        None if accounts.len() > 1 => {
            auth::verify_password(password, None);
            return Err(ApiError::Conflict(
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
        _ => Err(ApiError::Unauthorized("the email or password is wrong")),
    }
}

/// The client's address, for rate limits: behind a trusted proxy, the address it forwards for.
fn client(req: &HttpRequest) -> Option<std::net::IpAddr> {
    crate::web::client_addr::of(req)
}

/// Sign in a patient's app with a one-time enrollment code.
#[utoipa::path(
    tag = "auth",
    request_body = EnrollRequest,
    responses(
        (status = 200, description = "The app is enrolled", body = Tokens),
        (status = 401, description = "The code is unknown, used or expired", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is longer than any code", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "This code was tried too often, or this address sent too many unknown codes (a valid code is never refused for its address); retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
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
    limits.guess("enroll", &hex::encode(&hash))?;
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
    .await;
    if let Err(ApiError::Unauthorized(_)) = tokens
        && let Some(wait) = limits.wrong_guess("enroll", client(&req))
    {
        return Err(wait);
    }
    Ok(web::Json(tokens?))
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
        (status = 429, description = "This refresh token was tried too often, or this address sent too many unknown ones (a valid token is never refused for its address); retry after Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json",
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
    limits.guess("refresh", &hex::encode(&hash))?;
    let rejected = ApiError::Unauthorized("the refresh token is unknown, used, revoked or expired");
    let tokens = db::run(&pool, move |conn| rotate(conn, &keys, &hash)).await?;
    if tokens.is_none() {
        sessions.forget_all();
        if let Some(wait) = limits.wrong_guess("refresh", client(&req)) {
            return Err(wait);
        }
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
