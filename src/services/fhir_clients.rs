//! Registering and removing the clinic's FHIR system clients, and authenticating one at the token
//! endpoint (SMART Backend Services).

use chrono::Utc;
use diesel::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::Error;
use crate::db::fhir_clients::Client;
use crate::db::{self, Tenant};
use crate::fhir::smart;

/// Stores the clinic's new system client.
pub fn register(conn: &mut PgConnection, tenant: Tenant, client: &Client) -> Result<Client, Error> {
    Ok(db::fhir_clients::insert(conn, tenant, client)?)
}

/// Removes the client: it gets no more tokens, and those it holds stop working. A 404 when the
/// clinic has no such client.
pub fn remove(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> Result<(), Error> {
    if !db::fhir_clients::delete(conn, tenant, id)? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Checks an assertion: its client, its signature by one of the client's keys, its audience,
/// issuer, subject and lifetime, and that its `jti` is new, which it records. The client's id and
/// clinic, or why not (unauthorized, with what the client is told).
pub fn authenticate(
    conn: &mut PgConnection,
    assertion: &str,
    token_url: &str,
) -> Result<(Uuid, Uuid), Error> {
    check_client(conn, assertion, token_url).map_err(Error::Unauthorized)
}

/// [`authenticate`], failing with what the client is told.
fn check_client(
    conn: &mut PgConnection,
    assertion: &str,
    token_url: &str,
) -> Result<(Uuid, Uuid), &'static str> {
    let unknown = "the assertion's iss is not a registered client";
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| "the assertion is not a JWT")?;
    let client: Uuid = claims["iss"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or(unknown)?;
    let (tenant, registered) = db::fhir_clients::find(conn, client)
        .map_err(|_| "the client could not be looked up; retry")?
        .ok_or(unknown)?;
    let verified = smart::verify_assertion(assertion, client, &registered.jwks, token_url)?;
    let now = Utc::now().timestamp();
    let jti = smart::check_assertion(&verified, now)?;
    let expires = chrono::DateTime::from_timestamp(verified.exp, 0).unwrap_or_else(Utc::now);
    let fresh = db::fhir_clients::take_jti(conn, client, jti, expires)
        .map_err(|_| "the assertion could not be recorded; retry")?;
    if !fresh {
        return Err("this assertion's jti was used before");
    }
    Ok((client, tenant.id().uuid()))
}
