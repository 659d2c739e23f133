//! The clinic's FHIR system clients (SMART Backend Services), registered by an admin with their
//! public keys: a JWK or a JWKS of RSA keys (RS384) or P-384 keys (ES384). The client's id is its
//! `client_id`: the `iss` and `sub` of the assertions it signs.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Json, created};
use super::fhir::base_url;
use crate::db::{self, Pool};
use crate::domain::{Invalid, check_text};
use crate::error::ApiError;
use crate::fhir::smart;
use crate::services::fhir_clients;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Hospital data warehouse",
    "jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "warehouse-1",
        "x": "NCk8RAgddixQnNFolOlaIJ7TvPhI7otQY-uFmeCIZJSGJ8B8NXQ3kgQIwJ-MciCH",
        "y": "ZSnvOXhOrQX1YQpC9OGgua5rLbIRsKS8cxBNwZwtT9_BYvul0TfRsSy66m9DX2UE"}]}
}))]
pub struct NewFhirClient {
    /// Not blank, at most 200 characters.
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: String,
    /// The client's public keys: a JWKS (`{"keys": [...]}`) of at most 5 keys, or one JWK; RSA
    /// (RS384) of 2,048 bits or more with an odd exponent, or EC on P-384 (ES384) with a point on
    /// the curve; each with a `kid` of its own (the assertions name it), without private parts.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FhirClient {
    /// The `client_id`: the `iss` and `sub` of its assertions.
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Where the client trades its assertions for access tokens (the assertions' `aud`).
    pub token_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FhirClients {
    pub items: Vec<FhirClient>,
}

fn answer(c: db::fhir_clients::Client, token_url: &str) -> FhirClient {
    FhirClient {
        id: c.id,
        name: c.name,
        jwks: c.jwks,
        created_by: c.created_by.uuid(),
        created_at: c.created_at,
        token_url: token_url.to_string(),
    }
}

fn token_url(req: &HttpRequest) -> String {
    format!("{}/auth/token", base_url(req))
}

/// Register a system client by its public keys (admins).
#[utoipa::path(
    tag = "fhir",
    request_body = NewFhirClient,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = FhirClient, headers(("Location" = String))))
)]
#[post("/v1/fhir-clients")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(new): Json<NewFhirClient>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let admin = crate::domain::ids::StaffId::from(caller.id);
    let mut invalid = Invalid::default();
    check_text(&mut invalid, "name", Some(&new.name), 200);
    if let Err(e) = smart::public_keys(&new.jwks) {
        invalid.add("jwks", e);
    }
    invalid.into_result()?;
    let jwks = match new.jwks.get("keys") {
        Some(_) => new.jwks,
        None => serde_json::json!({"keys": [new.jwks]}),
    };
    let row = db::fhir_clients::Client {
        id: Uuid::new_v4(),
        name: crate::domain::text::trim(&new.name).to_string(),
        jwks,
        created_by: admin,
        created_at: Utc::now(),
    };
    let stored = db::run(&pool, move |conn| {
        fhir_clients::register(conn, caller.tenant, &row)
    })
    .await?;
    let location = format!("/v1/fhir-clients/{}", stored.id);
    Ok(created(location, answer(stored, &token_url(&req))))
}

/// The clinic's system clients (admins).
#[utoipa::path(
    tag = "fhir",
    security(("bearer" = [])),
    responses((status = 200, description = "The clients", body = FhirClients))
)]
#[get("/v1/fhir-clients")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<FhirClients>, ApiError> {
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::fhir_clients::list(conn, caller.tenant)?)
    })
    .await?;
    let url = token_url(&req);
    let items = rows.into_iter().map(|c| answer(c, &url)).collect();
    Ok(web::Json(FhirClients { items }))
}

/// Remove a system client (admins): it gets no more tokens, and the ones it holds stop working.
#[utoipa::path(
    tag = "fhir",
    params(("id" = Uuid, Path, description = "The client")),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"))
)]
#[delete("/v1/fhir-clients/{id}")]
pub async fn delete(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        fhir_clients::remove(conn, caller.tenant, id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
