//! Sign-in for staff (email and password) and patients (an enrollment code), token refresh and
//! logout, and `/v1/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use crate::config::HttpSettings;
use crate::db::{self, Pool};
use crate::domain::clinic::ClinicCode;
use crate::error::ApiError;
use crate::services;
use crate::services::sign_in::{self, Family, Issued, NamedClinic};
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
            (None, Some(id)) => Some(NamedClinic::Id(id.into())),
            (Some(Some(code)), None) => Some(NamedClinic::Code(code)),
            (Some(Some(code)), Some(id)) => Some(NamedClinic::Both(id.into(), code)),
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

impl From<Issued> for Tokens {
    fn from(i: Issued) -> Self {
        let is_patient = i.role == Role::Patient;
        Tokens {
            access_token: i.access_token,
            token_type: "Bearer",
            expires_in: auth::ACCESS_TOKEN_TTL.num_seconds(),
            refresh_token: i.refresh_token,
            refresh_expires_at: i.refresh_expires_at,
            role: i.role,
            clinic_id: i.clinic_id.uuid(),
            user_id: (!is_patient).then_some(i.id),
            patient_id: is_patient.then_some(i.id),
        }
    }
}

/// A new sign-in's session, with the client's kind from its User-Agent.
fn new_family(req: &HttpRequest) -> Family {
    let client = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::domain::sessions::client_kind);
    Family {
        id: crate::domain::ids::SessionId::new_v4(),
        started_at: Utc::now(),
        client,
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
    let family = new_family(&req);
    let tokens = db::run(&pool, move |conn| {
        sign_in::staff(conn, &keys, &account, &body.password, clinic, family)
    })
    .await;
    match &tokens {
        Ok(_) => limits.sign_in_succeeded(&email, &who),
        Err(services::Error::Unauthorized(_)) => limits.sign_in_failed(&email, &who),
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
    Ok(HttpResponse::Ok().cookie(cookie).json(Tokens::from(tokens)))
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
    let family = new_family(&req);
    let tokens = db::run(&pool, move |conn| {
        sign_in::enroll(conn, &keys, &hash, family)
    })
    .await;
    if let Err(services::Error::Unauthorized(_)) = tokens
        && let Some(wait) = limits.wrong_guess("enroll", client(&req))
    {
        return Err(wait);
    }
    Ok(web::Json(tokens?.into()))
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
    let tokens = db::run(&pool, move |conn| sign_in::refresh(conn, &keys, &hash)).await?;
    if tokens.is_none() {
        sessions.forget_all();
        if let Some(wait) = limits.wrong_guess("refresh", client(&req)) {
            return Err(wait);
        }
    }
    tokens.map(|t| web::Json(t.into())).ok_or(rejected)
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
        sign_in::sign_out(conn, caller.tenant, caller.id, &hash)
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
        Ok::<_, ApiError>(db::clinics::get(conn, caller.tenant)?)
    })
    .await?;
    let is_patient = caller.role == Role::Patient;
    Ok(web::Json(Me {
        role: caller.role,
        clinic_id: clinic.id.uuid(),
        clinic_name: clinic.name,
        clinic_timezone: clinic.timezone,
        user_id: (!is_patient).then_some(caller.id),
        patient_id: is_patient.then_some(caller.id),
    }))
}
