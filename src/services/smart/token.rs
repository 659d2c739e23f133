//! The token endpoint's `authorization_code` grant: a code and its PKCE verifier traded for an
//! access token, the app authenticated (a public one by its `client_id`, a confidential one by an
//! assertion signed with its key, each `jti` once), every token recorded.

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};
use serde_json::Value;
use uuid::Uuid;

use super::TOKEN_TTL;
use crate::db;
use crate::domain::smart as rules;
use crate::services::Error;
use crate::web::auth::{self, AppClaims, Keys};

/// How an app authenticated at the token endpoint.
enum Client {
    /// A public app, by its `client_id`.
    Known,
    /// A confidential app, by an assertion signed with its key: its `jti` (new until `expires`).
    Signed { jti: String, expires: DateTime<Utc> },
    /// Not as the app the code was issued to.
    Unknown,
}

/// A confidential app's assertion: signed by one of its keys, for this token endpoint, living at
/// most five minutes, with a `jti` (whose novelty the caller checks).
fn assertion_of(
    assertion: &str,
    app: Uuid,
    jwks: &Value,
    token_url: &str,
    now: DateTime<Utc>,
) -> Client {
    use crate::fhir::smart::{check_assertion, verify_assertion};
    let Ok(a) = verify_assertion(assertion, app, jwks, token_url) else {
        return Client::Unknown;
    };
    match check_assertion(&a, now.timestamp()) {
        Ok(jti) => Client::Signed {
            jti: jti.to_string(),
            expires: DateTime::from_timestamp(a.exp, 0).unwrap_or(now),
        },
        Err(_) => Client::Unknown,
    }
}

/// The token endpoint's form for `authorization_code`.
pub struct Exchange {
    pub code: String,
    pub redirect_uri: String,
    pub client_id: Option<String>,
    pub code_verifier: String,
    pub client_assertion: Option<String>,
}

/// A token given: the token, its scope and the patient in context.
pub struct Granted {
    pub access_token: String,
    pub scope: String,
    pub patient: Option<Uuid>,
}

/// An OAuth error of the token endpoint: `invalid_grant`, `invalid_client`, `server_error`.
#[derive(Debug)]
pub struct Refused(pub &'static str, pub &'static str);

/// Trades a code for an access token: the code unused (a second use revokes the tokens the first
/// gave) and not expired, its app authenticated (a public app names itself by `client_id`; a
/// confidential one signs an assertion with its key), the same redirect URI, and the PKCE
/// verifier that hashes to the challenge. Every token is recorded.
pub fn exchange(
    conn: &mut PgConnection,
    keys: &Keys,
    form: &Exchange,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<Result<Granted, Refused>, Error> {
    let hash = auth::secret_hash(&form.code);
    conn.transaction(|conn| {
        let Some(code) = db::smart::take_code(conn, &hash, now)? else {
            return Ok(Err(Refused("invalid_grant", "the code is unknown")));
        };
        if code.used_at.is_some() {
            db::smart::revoke_code_tokens(conn, &hash, now)?;
            return Ok(Err(Refused(
                "invalid_grant",
                "the code was used before: the tokens issued from it are revoked",
            )));
        }
        if code.expires_at <= now {
            return Ok(Err(Refused("invalid_grant", "the code has expired")));
        }
        let Some((tenant, app)) = db::smart::find(conn, code.app_id)? else {
            return Ok(Err(Refused("invalid_grant", "the code's app is gone")));
        };
        let client = match (&app.jwks, &form.client_assertion) {
            (Some(jwks), Some(assertion)) => assertion_of(assertion, app.id, jwks, token_url, now),
            (Some(_), None) => Client::Unknown,
            (None, _) if form.client_id.as_deref() == Some(app.id.to_string().as_str()) => {
                Client::Known
            }
            (None, _) => Client::Unknown,
        };
        match client {
            Client::Known => {}
            Client::Unknown => {
                return Ok(Err(Refused(
                    "invalid_client",
                    "the app did not authenticate as the one the code was issued to",
                )));
            }
            Client::Signed { jti, expires } => {
                if !db::smart::take_jti(conn, app.id, &jti, expires)? {
                    return Ok(Err(Refused(
                        "invalid_client",
                        "this assertion's jti was used before",
                    )));
                }
            }
        }
        if form.redirect_uri != code.redirect_uri {
            return Ok(Err(Refused(
                "invalid_grant",
                "redirect_uri is not the authorization request's",
            )));
        }
        if !rules::verifier_matches(&form.code_verifier, &code.code_challenge) {
            return Ok(Err(Refused(
                "invalid_grant",
                "code_verifier does not match the code_challenge (S256)",
            )));
        }
        let jti = Uuid::new_v4();
        db::smart::insert_token(
            conn,
            &db::smart::Token {
                id: jti,
                app_id: app.id,
                user_id: code.user_id,
                role: code.role,
                patient_id: code.patient_id,
                scope: code.scope.clone(),
                code_hash: hash.clone(),
                issued_at: now,
                expires_at: now + Duration::seconds(TOKEN_TTL),
                revoked_at: None,
            },
        )?;
        let access_token = keys.sign(&AppClaims {
            sub: code.user_id,
            role: code.role,
            clinic: tenant.id().uuid(),
            app: app.id,
            jti,
            patient: code.patient_id,
            scope: code.scope.clone(),
            iss: auth::ISSUER.into(),
            aud: auth::APP_AUDIENCE.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + TOKEN_TTL,
        })?;
        Ok(Ok(Granted {
            access_token,
            scope: code.scope,
            patient: code.patient_id,
        }))
    })
}
