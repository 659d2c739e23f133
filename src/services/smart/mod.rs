//! SMART App Launch (STU 2): registering an app, the authorization request (checked, then decided
//! by the signed-in user on the consent page), EHR launch contexts, and trading a code (PKCE S256)
//! for an access token, each use case owning its transaction.

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};
use serde_json::Value;
use uuid::Uuid;

mod token;

pub use token::{Exchange, Granted, Refused, exchange};

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::ids::PatientId;
use crate::domain::smart::{self as rules, Scope};
use crate::domain::{Invalid, check_text};
use crate::web::auth::{self, Role};

/// How long a code may wait for its exchange.
pub const CODE_TTL: Duration = Duration::seconds(60);
/// How long an app's access token lasts.
pub const TOKEN_TTL: i64 = 3600;
/// How long a launch context waits for the app's authorization request.
pub const LAUNCH_TTL: Duration = Duration::minutes(5);

pub const PUBLIC: &str = "public";
pub const CONFIDENTIAL: &str = "confidential-asymmetric";

/// An app as an admin registers it.
pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub launch_url: Option<String>,
    pub client_type: String,
    pub jwks: Option<Value>,
    pub scopes: String,
}

/// Registers an app: a name, 1-10 redirect URIs (https, or http on the loopback), a launch URL
/// (https or loopback), public (PKCE only) or confidential-asymmetric (with its keys), and the
/// scopes it may ever be granted.
pub fn register(
    conn: &mut PgConnection,
    tenant: Tenant,
    admin: Uuid,
    new: NewApp,
) -> Result<db::smart::App, Error> {
    let mut invalid = Invalid::default();
    check_text(&mut invalid, "name", Some(&new.name), 200);
    invalid.check(
        (1..=10).contains(&new.redirect_uris.len())
            && new.redirect_uris.iter().all(|u| rules::redirect_uri_ok(u)),
        "redirect_uris",
        "1-10 absolute https URIs (http only on localhost), without fragments",
    );
    if let Some(url) = &new.launch_url {
        invalid.check(
            rules::redirect_uri_ok(url),
            "launch_url",
            "an absolute https URI (http only on localhost), without a fragment",
        );
    }
    let jwks = match (new.client_type.as_str(), new.jwks) {
        (PUBLIC, None) => None,
        (PUBLIC, Some(_)) => {
            invalid.add("jwks", "a public app has no keys");
            None
        }
        (CONFIDENTIAL, Some(jwks)) => {
            if let Err(e) = crate::fhir::smart::public_keys(&jwks) {
                invalid.add("jwks", e);
            }
            Some(match jwks.get("keys") {
                Some(_) => jwks,
                None => serde_json::json!({"keys": [jwks]}),
            })
        }
        (CONFIDENTIAL, None) => {
            invalid.add(
                "jwks",
                "a confidential-asymmetric app registers its public keys",
            );
            None
        }
        _ => {
            invalid.add("client_type", "public or confidential-asymmetric");
            None
        }
    };
    let scopes = match rules::parse_scopes(&new.scopes) {
        Ok(scopes) if !scopes.is_empty() => rules::join(&scopes),
        Ok(_) => {
            invalid.add("scopes", "at least one scope");
            String::new()
        }
        Err(e) => {
            invalid.add("scopes", e);
            String::new()
        }
    };
    invalid.into_result()?;
    let row = db::smart::App {
        id: Uuid::new_v4(),
        name: crate::domain::text::trim(&new.name).to_string(),
        redirect_uris: new.redirect_uris.into_iter().map(Some).collect(),
        launch_url: new.launch_url,
        client_type: new.client_type,
        jwks,
        scopes,
        created_by: admin,
        created_at: Utc::now(),
    };
    Ok(db::smart::insert(conn, tenant, &row)?)
}

/// An authorization request's parameters, as the app sent them.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub aud: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub launch: Option<String>,
}

/// Why a request is refused: shown to the user (the client or its redirect URI is unknown, so
/// nothing may be sent there), or sent back to the app's redirect URI (RFC 6749, 4.1.2.1).
#[derive(Debug)]
pub enum Refusal {
    Shown(String),
    Redirected {
        error: &'static str,
        description: String,
    },
}

/// A request that holds: its app and clinic, the scopes asked (within the app's), and the
/// launch it names.
pub struct Checked {
    pub tenant: Tenant,
    pub app: db::smart::App,
    pub scopes: Vec<Scope>,
    pub launch: Option<db::smart::Launch>,
}

fn redirected(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal::Redirected {
        error,
        description: description.into(),
    }
}

/// Checks a request against the app's registration: its client and exact redirect URI first
/// (else nothing is redirected), then the response type, `aud` (the FHIR base), PKCE S256, the
/// scopes (within the app's) and the launch (this app's, not expired).
pub fn check(conn: &mut PgConnection, req: &Request, base: &str) -> Result<Checked, Refusal> {
    let shown = |s: &str| Refusal::Shown(s.to_string());
    let client: Uuid = req
        .client_id
        .parse()
        .map_err(|_| shown("client_id is not a registered app"))?;
    let (tenant, app) = db::smart::find(conn, client)
        .map_err(|_| shown("the app could not be looked up; retry"))?
        .ok_or_else(|| shown("client_id is not a registered app"))?;
    if !app.redirects_to(&req.redirect_uri) {
        return Err(shown("redirect_uri is not one the app registered"));
    }
    if req.response_type != "code" {
        return Err(redirected(
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    if req.aud != base {
        return Err(redirected("invalid_request", format!("aud must be {base}")));
    }
    if req.code_challenge_method != "S256" || !rules::challenge_well_formed(&req.code_challenge) {
        return Err(redirected(
            "invalid_request",
            "PKCE is required: a code_challenge with code_challenge_method S256",
        ));
    }
    let scopes = rules::parse_scopes(&req.scope).map_err(|e| redirected("invalid_scope", e))?;
    let allowed = rules::parse_scopes(&app.scopes).unwrap_or_default();
    if let Some(scope) = rules::beyond(&scopes, &allowed) {
        let scope = rules::canonical(scope);
        return Err(redirected(
            "invalid_scope",
            format!("{scope} is beyond the app's scopes"),
        ));
    }
    if !scopes.iter().any(|s| matches!(s, Scope::Resource(_))) {
        return Err(redirected(
            "invalid_scope",
            "ask for at least one resource scope",
        ));
    }
    let launch = match &req.launch {
        None => None,
        Some(id) => {
            let found = id
                .parse()
                .ok()
                .map(|id| db::smart::launch(conn, app.id, id))
                .transpose()
                .map_err(|_| redirected("server_error", "the launch could not be looked up"))?
                .flatten();
            Some(
                found
                    .ok_or_else(|| redirected("invalid_request", "launch is unknown or expired"))?,
            )
        }
    };
    Ok(Checked {
        tenant,
        app,
        scopes,
        launch,
    })
}

/// The app's redirect URI with these parameters added (and the request's `state`).
pub fn redirect(req: &Request, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(&req.redirect_uri) {
        Ok(url) => url,
        Err(_) => return req.redirect_uri.clone(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = &req.state {
            query.append_pair("state", state);
        }
    }
    url.to_string()
}

/// What the signed-in user says on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing yet: redirect at once if the user approved these scopes before.
    Ask,
    Approve,
    Deny,
}

/// The user who decides.
#[derive(Debug, Clone, Copy)]
pub struct User {
    pub id: Uuid,
    pub role: Role,
    pub tenant: Tenant,
}

/// What the consent page does next.
pub enum Outcome {
    /// Send the browser here: the app's redirect URI with a code, or with an error.
    Redirect(String),
    /// Ask the user: the app, the scopes, and whether a patient must be chosen.
    Consent {
        app: String,
        scopes: Vec<String>,
        needs_patient: bool,
    },
}

/// Decides a request for the signed-in user: a patient authorizes for their own record (patient
/// scopes only, no EHR launch); staff for the launch's patient, the patient they chose, or none
/// (user scopes). A user who approved the app for these scopes before is not asked again.
pub fn decide(
    conn: &mut PgConnection,
    req: &Request,
    base: &str,
    user: User,
    decision: Decision,
    chosen: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let checked = match check(conn, req, base) {
        Ok(checked) => checked,
        Err(Refusal::Shown(why)) => return Err(Error::invalid("client_id", &why)),
        Err(Refusal::Redirected { error, description }) => {
            return Ok(Outcome::Redirect(redirect(
                req,
                &[("error", error), ("error_description", &description)],
            )));
        }
    };
    // Another clinic's app is no app of this user's.
    if checked.tenant != user.tenant {
        return Err(Error::NotFound);
    }
    let refuse = |error: &str, description: &str| {
        Ok(Outcome::Redirect(redirect(
            req,
            &[("error", error), ("error_description", description)],
        )))
    };
    if decision == Decision::Deny {
        return refuse("access_denied", "the user declined");
    }
    let user_scoped = checked
        .scopes
        .iter()
        .any(|s| matches!(s, Scope::Resource(r) if r.context == rules::Context::User));
    let patient = match (user.role, &checked.launch) {
        (Role::Patient, Some(_)) => {
            return refuse("invalid_request", "an EHR launch is for the clinic's staff");
        }
        (Role::Patient, None) if user_scoped => {
            return refuse("invalid_scope", "a patient grants patient/ scopes only");
        }
        (Role::Patient, None) => Some(user.id),
        (_, Some(launch)) if launch.staff_id != user.id => {
            return refuse("invalid_request", "this launch was opened by another user");
        }
        (_, Some(launch)) => Some(launch.patient_id),
        (_, None) if rules::wants_patient(&checked.scopes) => match chosen {
            Some(id) => {
                db::patients::get(conn, user.tenant, PatientId::from(id))
                    .map_err(|_| Error::invalid("patient", "no such patient in this clinic"))?;
                Some(id)
            }
            None if decision == Decision::Approve => {
                return Err(Error::invalid(
                    "patient",
                    "choose the patient the app opens",
                ));
            }
            None => None,
        },
        (_, None) => None,
    };
    let asked = rules::join(&checked.scopes);
    let approved = db::smart::approval(conn, checked.app.id, user.id)?
        .and_then(|s| rules::parse_scopes(&s).ok())
        .is_some_and(|approved| rules::within(&checked.scopes, &approved));
    let patient_missing = rules::wants_patient(&checked.scopes) && patient.is_none();
    if patient_missing || (!approved && decision == Decision::Ask) {
        return Ok(Outcome::Consent {
            app: checked.app.name,
            scopes: checked.scopes.iter().map(rules::canonical).collect(),
            needs_patient: patient_missing,
        });
    }
    let code = auth::new_refresh_token();
    conn.transaction(|conn| {
        if !approved {
            db::smart::approve(conn, checked.app.id, user.id, &asked, now)?;
        }
        db::smart::insert_code(
            conn,
            &db::smart::Code {
                code_hash: auth::secret_hash(&code),
                app_id: checked.app.id,
                user_id: user.id,
                role: user.role,
                patient_id: patient,
                scope: asked,
                redirect_uri: req.redirect_uri.clone(),
                code_challenge: req.code_challenge.clone(),
                expires_at: now + CODE_TTL,
                used_at: None,
            },
        )
    })?;
    Ok(Outcome::Redirect(redirect(req, &[("code", &code)])))
}

/// Opens an EHR launch: the app, for this patient of the clinic, by this staff member. The
/// URL the app is opened with (`{launch_url}?iss={base}&launch={id}`).
pub fn launch(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff: Uuid,
    app: Uuid,
    patient: Uuid,
    base: &str,
) -> Result<String, Error> {
    let app = db::smart::get(conn, tenant, app)?.ok_or(Error::NotFound)?;
    let launch_url = app
        .launch_url
        .clone()
        .ok_or_else(|| Error::Conflict("the app has no launch URL".into()))?;
    db::patients::get(conn, tenant, PatientId::from(patient))?;
    let id = Uuid::new_v4();
    db::smart::insert_launch(
        conn,
        &db::smart::Launch {
            id,
            app_id: app.id,
            staff_id: staff,
            patient_id: patient,
            expires_at: Utc::now() + LAUNCH_TTL,
        },
    )?;
    let mut url = url::Url::parse(&launch_url)
        .map_err(|_| Error::Conflict("the app's launch URL is not a URL".into()))?;
    url.query_pairs_mut()
        .append_pair("iss", base)
        .append_pair("launch", &id.to_string());
    Ok(url.to_string())
}

/// Removes the clinic's app: its approvals, launches, codes and tokens go with it, so its tokens
/// stop working at once.
pub fn remove(conn: &mut PgConnection, tenant: Tenant, app: Uuid) -> Result<(), Error> {
    if db::smart::delete(conn, tenant, app)? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Revokes the clinic's app's tokens, one or all; all also forgets every approval its users gave.
/// How many tokens stopped working.
pub fn revoke(
    conn: &mut PgConnection,
    tenant: Tenant,
    app: Uuid,
    token: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    conn.transaction(|conn| {
        db::smart::get(conn, tenant, app)?.ok_or(Error::NotFound)?;
        Ok(db::smart::revoke(conn, app, token, None, now)?)
    })
}

/// Withdraws a user's authorization of the clinic's app: their approval is forgotten and the
/// tokens they gave it stop working.
pub fn withdraw(
    conn: &mut PgConnection,
    tenant: Tenant,
    app: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    conn.transaction(|conn| {
        db::smart::get(conn, tenant, app)?.ok_or(Error::NotFound)?;
        db::smart::revoke(conn, app, None, Some(user), now)?;
        Ok(())
    })
}
