//! Who is calling: access tokens (JWT, HS256) issued and verified, the extractor that turns a token
//! into a [`Caller`], password hashing, and the random secrets behind refresh tokens and enrollment codes.

pub mod sessions;

use futures_util::future::LocalBoxFuture;
use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::JwtSettings;
use crate::db::Tenant;
use crate::domain::ids::ClinicId;
use crate::error::ApiError;

pub const ISSUER: &str = "aftercare";
pub const AUDIENCE: &str = "aftercare-api";
/// The audience of a system client's token (SMART Backend Services): the FHIR API only.
pub const SYSTEM_AUDIENCE: &str = "aftercare-fhir";
/// The audience of a SMART app's token (App Launch): the FHIR API only.
pub const APP_AUDIENCE: &str = "aftercare-smart-app";
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// A clinician's session lasts a working day; a patient's phone stays signed in through a recovery.
pub const STAFF_REFRESH_TTL: Duration = Duration::hours(12);
pub const PATIENT_REFRESH_TTL: Duration = Duration::days(90);
pub const ENROLLMENT_CODE_TTL: Duration = Duration::hours(72);

pub use crate::domain::people::Role;

impl From<crate::domain::people::StaffRole> for Role {
    fn from(role: crate::domain::people::StaffRole) -> Role {
        match role {
            crate::domain::people::StaffRole::Admin => Role::Admin,
            crate::domain::people::StaffRole::Clinician => Role::Clinician,
        }
    }
}

/// The roles an operation admits, looked up by its method and route pattern in the route table
/// (`api::OPERATIONS`, given to the app as data): the [`Caller`] extractor answers 403 to a caller
/// of any other role, so no handler checks a role by hand.
#[derive(Clone, Copy)]
pub struct RouteRoles(pub fn(&HttpRequest) -> Option<&'static str>);

impl RouteRoles {
    /// Whether the route `req` matched admits `role`; a route not in the table admits every role.
    fn admit(&self, req: &HttpRequest, role: Role) -> bool {
        match (self.0)(req) {
            Some("public") | None => true,
            Some(roles) => roles.contains(role.letter()),
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The staff member's or the patient's id.
    pub sub: Uuid,
    pub role: Role,
    pub clinic: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The session (refresh-token family) the token was issued in: when it is revoked, the token
    /// stops working at once. Tokens signed before sessions were checked have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// The claims of a system client's access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemClaims {
    /// The client's id.
    pub sub: Uuid,
    pub clinic: Uuid,
    pub scope: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The claims of a SMART app's access token: `jti` names its row in `smart_tokens` (which the
/// FHIR API checks, so that a revoked token stops at once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppClaims {
    /// The user who authorized the app.
    pub sub: Uuid,
    pub role: Role,
    pub clinic: Uuid,
    /// The app's `client_id`.
    pub app: Uuid,
    pub jti: Uuid,
    /// The patient in context, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Uuid>,
    pub scope: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// A kind of token this service signs: its claims, and the audience that keeps it to its API (a
/// user's token never passes as a system client's or an app's, nor the other way round).
pub trait Signed: Serialize + serde::de::DeserializeOwned {
    const AUDIENCE: &'static str;
}

impl Signed for Claims {
    const AUDIENCE: &'static str = AUDIENCE;
}

impl Signed for SystemClaims {
    const AUDIENCE: &'static str = SYSTEM_AUDIENCE;
}

impl Signed for AppClaims {
    const AUDIENCE: &'static str = APP_AUDIENCE;
}

impl SystemClaims {
    /// A system client's claims: the FHIR API, with `scope`, for `ttl` seconds from `now`.
    pub fn new(client: Uuid, clinic: Uuid, scope: &str, now: DateTime<Utc>, ttl: i64) -> Self {
        SystemClaims {
            sub: client,
            clinic,
            scope: scope.into(),
            iss: ISSUER.into(),
            aud: SYSTEM_AUDIENCE.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + ttl,
        }
    }
}

/// Marks a request made with a system client's token, so that the audit trail names its role.
#[derive(Debug, Clone, Copy)]
pub struct SystemClient;

struct Key {
    kid: String,
    decoding: DecodingKey,
}

/// The signing key, and the keys tokens are accepted under (the current and the previous secret).
pub struct Keys {
    kid: String,
    encoding: EncodingKey,
    accepted: Vec<Key>,
    /// How each kind of token is checked, by its audience.
    validations: Vec<(&'static str, Validation)>,
    /// The keys device cookies are signed under, derived from the secrets: the current one first.
    devices: Vec<[u8; 32]>,
}

/// What a device token says: device `device` signed in to `account`; trusted until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub account: String,
    pub device: String,
    pub expires: DateTime<Utc>,
}

/// A new device's id: 128 random bits.
pub fn new_device_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The key device tokens are signed with, derived from a JWT secret, so that a device token is
/// never a valid access token or the other way round.
fn device_key(secret: &str) -> [u8; 32] {
    device_mac(secret.as_bytes(), b"aftercare-device-cookie")
}

fn device_mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // HMAC takes a key of any length: `new_from_slice` can't fail.
    hmac::Hmac::<Sha256>::new_from_slice(key)
        .map(|m| m.chain_update(message).finalize().into_bytes().into())
        .unwrap_or_default()
}

/// Names a secret without revealing it, so a token says which key signed it.
pub fn key_id(secret: &str) -> String {
    let digest = Sha256::digest(format!("aftercare-kid:{secret}"));
    hex::encode(&digest[..8])
}

impl Keys {
    pub fn new(settings: &JwtSettings) -> Keys {
        let accepted = std::iter::once(&settings.secret)
            .chain(settings.previous_secret.as_ref())
            .map(|s| Key {
                kid: key_id(s),
                decoding: DecodingKey::from_secret(s.as_bytes()),
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let validations = [AUDIENCE, SYSTEM_AUDIENCE, APP_AUDIENCE]
            .into_iter()
            .map(|audience| {
                let mut v = validation.clone();
                v.set_audience(&[audience]);
                (audience, v)
            })
            .collect();
        Keys {
            kid: key_id(&settings.secret),
            encoding: EncodingKey::from_secret(settings.secret.as_bytes()),
            accepted,
            validations,
            devices: std::iter::once(&settings.secret)
                .chain(settings.previous_secret.as_ref())
                .map(|s| device_key(s))
                .collect(),
        }
    }

    /// A device token (one entry of the `aftercare_device` cookie): says that device `device`
    /// signed in to `account`, until `expires`. Signed, not encrypted: it holds the account's
    /// email, and only ever goes back to the sign-in route of the service that set it.
    pub fn device_token(&self, account: &str, device: &str, expires: DateTime<Utc>) -> String {
        let payload = format!("{}|{device}|{account}", expires.timestamp());
        let mac = device_mac(&self.devices[0], payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// The device and account a device token names, and until when, if its signature is good
    /// and it has not expired.
    pub fn device_of(&self, token: &str, now: DateTime<Utc>) -> Option<DeviceToken> {
        use hmac::Mac;
        let (payload, mac) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        // Constant-time comparison, under the current key or the previous one.
        self.devices.iter().find(|key| {
            hmac::Hmac::<Sha256>::new_from_slice(&key[..])
                .map(|m| m.chain_update(&payload).verify_slice(&mac).is_ok())
                .unwrap_or(false)
        })?;
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.splitn(3, '|');
        let expires = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
        let device = parts.next()?.to_string();
        let account = parts.next()?.to_string();
        (expires > now).then_some(DeviceToken {
            account,
            device,
            expires,
        })
    }

    /// A token of ours, signed with the current key and naming it by `kid`.
    pub fn sign<C: Signed>(&self, claims: &C) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// A token of ours of kind `C`: HS256, our issuer and `C`'s audience, in its time window,
    /// signed by a key we hold (chosen by `kid`); None for anything else (another kind among them).
    pub fn verify_as<C: Signed>(&self, token: &str) -> Option<C> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self
            .accepted
            .iter()
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))?;
        let (_, validation) = self
            .validations
            .iter()
            .find(|(audience, _)| *audience == C::AUDIENCE)?;
        jsonwebtoken::decode::<C>(token, &key.decoding, validation)
            .ok()
            .map(|data| data.claims)
    }

    pub fn issue(
        &self,
        sub: Uuid,
        role: Role,
        clinic: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.issue_in_session(sub, role, clinic, now, None)
    }

    /// An access token that works only while its session (`sid`) stands.
    pub fn issue_in_session(
        &self,
        sub: Uuid,
        role: Role,
        clinic: Uuid,
        now: DateTime<Utc>,
        sid: Option<Uuid>,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sid,
            sub,
            role,
            clinic,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        self.sign(&claims)
    }

    /// A user's access token (see [`Keys::verify_as`]), or 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        self.verify_as(token).ok_or(ApiError::Unauthorized(
            "the access token is invalid or expired",
        ))
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub id: Uuid,
    pub role: Role,
    pub tenant: Tenant,
    /// The session the access token was issued in.
    pub session: Option<Uuid>,
}

impl Caller {
    /// Staff may look at any patient of their clinic; a patient only at themselves. Another
    /// patient's id is answered as if it did not exist.
    pub fn may_see_patient(&self, patient_id: Uuid) -> Result<(), ApiError> {
        match self.role {
            Role::Patient if self.id != patient_id => Err(ApiError::NotFound),
            _ => Ok(()),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = caller_of(&req)?;
            if let Some(session) = caller.session {
                crate::web::auth::sessions::ensure_live(&req, session).await?;
            }
            // For the audit trail, which records who asked, and whether they were let in.
            req.extensions_mut().insert(caller);
            if let Some(roles) = req.app_data::<actix_web::web::Data<RouteRoles>>()
                && !roles.admit(&req, caller.role)
            {
                return Err(ApiError::Forbidden);
            }
            Ok(caller)
        })
    }
}

/// The clinics tokens were found to belong to. A well-signed token can still name a clinic that
/// doesn't exist (signed with a leaked key, or for another deployment): it is a 401, not an error
/// further on. Clinics are never deleted, so each is looked up once per instance, and the set
/// holds no more than the clinics there are.
#[derive(Debug, Default)]
pub struct KnownClinics(std::sync::RwLock<std::collections::HashSet<ClinicId>>);

/// Answers 401 to a valid token of a clinic that doesn't exist, before any extractor runs (so that
/// the answer doesn't depend on the body). Other requests pass as they are.
pub async fn known_clinics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Ok(caller) = caller_of(req.request()) {
        known_clinic(req.request(), caller.tenant).await?;
    }
    next.call(req).await
}

async fn known_clinic(req: &HttpRequest, tenant: Tenant) -> Result<(), ApiError> {
    let (Some(known), Some(pool)) = (
        req.app_data::<web::Data<KnownClinics>>(),
        req.app_data::<web::Data<crate::db::Pool>>(),
    ) else {
        return Ok(());
    };
    let id = tenant.id();
    if known
        .0
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&id)
    {
        return Ok(());
    }
    let exists = crate::db::run(pool, move |conn| {
        Ok::<_, ApiError>(crate::db::clinics::exists(conn, tenant)?)
    })
    .await?;
    if !exists {
        return Err(ApiError::Unauthorized("the token's clinic does not exist"));
    }
    known
        .0
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id);
    Ok(())
}

/// The bearer token of a request.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn caller_of(req: &HttpRequest) -> Result<Caller, ApiError> {
    let keys = req
        .app_data::<web::Data<Keys>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("Keys are not configured")))?;
    let token = bearer(req).ok_or(ApiError::Unauthorized(
        "send Authorization: Bearer <access token>",
    ))?;
    let claims = keys.verify(token)?;
    Ok(Caller {
        id: claims.sub,
        role: claims.role,
        tenant: Tenant::new(claims.clinic.into()),
        session: claims.sid,
    })
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// A hash no password matches, checked when the email is unknown so that the answer takes as long
/// as a wrong password does.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(Uuid::new_v4().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Checks a password against a stored hash, or against a dummy hash when there is none.
pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let hash = stored_hash.unwrap_or(DUMMY_HASH.as_str());
    let matches = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    matches && stored_hash.is_some()
}

/// Secrets that are only ever stored hashed; they are long and random, so a plain SHA-256 suffices.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Letters and digits that can't be mistaken for each other when read off a screen or paper.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";

/// A new enrollment code, e.g. `K7QM-4XRT-9PWN` (about 59 bits).
pub fn new_enrollment_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| CODE_ALPHABET[(rng.next_u32() as usize) % CODE_ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are typed by people: case, spaces and dashes don't matter.
pub fn normalize_enrollment_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests;
