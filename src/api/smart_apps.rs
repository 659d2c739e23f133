//! The clinic's SMART apps (App Launch STU 2): an admin registers an app (its redirect URIs,
//! launch URL, client type and the scopes it may be granted), lists the tokens it was given and
//! revokes them; staff open an app for a patient (an EHR launch); any user withdraws their own
//! authorization of an app.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Json, created};
use super::fhir::base_url;
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::services::smart as service;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Scar photo analysis",
    "redirect_uris": ["https://scars.example/callback"],
    "launch_url": "https://scars.example/launch",
    "client_type": "public",
    "scopes": "launch launch/patient patient/*.rs user/*.rs"
}))]
pub struct NewSmartApp {
    /// Not blank, at most 200 characters.
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: String,
    /// 1-10 absolute https URIs (http only on localhost), matched exactly.
    #[schema(min_items = 1, max_items = 10)]
    pub redirect_uris: Vec<String>,
    /// Where an EHR launch opens the app (with `iss` and `launch`).
    #[schema(max_length = 500)]
    pub launch_url: Option<String>,
    /// `public` (PKCE only) or `confidential-asymmetric` (PKCE and `private_key_jwt`).
    #[schema(pattern = "^(public|confidential-asymmetric)$")]
    pub client_type: String,
    /// A confidential-asymmetric app's public keys, as a system client's (RS384, ES384).
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// The scopes the app may ever be granted: `launch`, `launch/patient`,
    /// `patient/{Type|*}.{rs|r|s|read}`, `user/{Type|*}.{rs|r|s|read}`.
    #[schema(max_length = 1000)]
    pub scopes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmartApp {
    /// The app's `client_id`.
    pub id: Uuid,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub launch_url: Option<String>,
    pub client_type: String,
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// The scopes it may be granted, in their v2 form.
    pub scopes: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Where it asks for authorization and trades codes for tokens.
    pub authorize_url: String,
    pub token_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmartApps {
    pub items: Vec<SmartApp>,
}

fn answer(a: db::smart::App, req: &HttpRequest) -> SmartApp {
    let base = base_url(req);
    SmartApp {
        id: a.id,
        name: a.name,
        redirect_uris: a.redirect_uris.into_iter().flatten().collect(),
        launch_url: a.launch_url,
        client_type: a.client_type,
        jwks: a.jwks,
        scopes: a.scopes,
        created_by: a.created_by,
        created_at: a.created_at,
        authorize_url: format!("{base}/auth/authorize"),
        token_url: format!("{base}/auth/token"),
    }
}

/// Register a SMART app (admins).
#[utoipa::path(
    tag = "smart",
    request_body = NewSmartApp,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = SmartApp, headers(("Location" = String))))
)]
#[post("/v1/smart-apps")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    Json(new): Json<NewSmartApp>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let new = service::NewApp {
        name: new.name,
        redirect_uris: new.redirect_uris,
        launch_url: new.launch_url,
        client_type: new.client_type,
        jwks: new.jwks,
        scopes: new.scopes,
    };
    let stored = db::run(&pool, move |conn| {
        service::register(conn, caller.tenant, caller.id, new).map_err(ApiError::from)
    })
    .await?;
    let location = format!("/v1/smart-apps/{}", stored.id);
    Ok(created(location, answer(stored, &req)))
}

/// The clinic's SMART apps (staff: the dashboard offers them on a patient's page).
#[utoipa::path(
    tag = "smart",
    security(("bearer" = [])),
    responses((status = 200, description = "The apps", body = SmartApps))
)]
#[get("/v1/smart-apps")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<SmartApps>, ApiError> {
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::smart::list(conn, caller.tenant)?)
    })
    .await?;
    let items = rows.into_iter().map(|a| answer(a, &req)).collect();
    Ok(web::Json(SmartApps { items }))
}

/// Remove a SMART app (admins): its tokens stop working at once, and it gets no more.
#[utoipa::path(
    tag = "smart",
    params(("id" = Uuid, Path, description = "The app")),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"))
)]
#[delete("/v1/smart-apps/{id}")]
pub async fn delete(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        service::remove(conn, caller.tenant, id).map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An access token an app was given: who authorized it, for which patient, with which scopes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmartToken {
    pub id: Uuid,
    /// The user who authorized the app (a staff member or a patient).
    pub user_id: Uuid,
    pub role: String,
    /// The patient in context, if any.
    pub patient_id: Option<Uuid>,
    pub scope: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Neither revoked nor expired.
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmartTokens {
    pub items: Vec<SmartToken>,
}

/// The tokens the app was given, newest first, at most 500 (admins): the audit of its access.
#[utoipa::path(
    tag = "smart",
    params(("id" = Uuid, Path, description = "The app")),
    security(("bearer" = [])),
    responses((status = 200, description = "Its tokens", body = SmartTokens))
)]
#[get("/v1/smart-apps/{id}/tokens")]
pub async fn tokens(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<SmartTokens>, ApiError> {
    let id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        db::smart::get(conn, caller.tenant, id)?.ok_or(ApiError::NotFound)?;
        Ok::<_, ApiError>(db::smart::tokens(conn, caller.tenant, id, 500)?)
    })
    .await?;
    let now = Utc::now();
    let items = rows
        .into_iter()
        .map(|t| SmartToken {
            active: t.revoked_at.is_none() && t.expires_at > now,
            id: t.id,
            user_id: t.user_id,
            role: t.role.as_str().into(),
            patient_id: t.patient_id,
            scope: t.scope,
            issued_at: t.issued_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    Ok(web::Json(SmartTokens { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token_id": null}))]
pub struct Revoke {
    /// One token; without it, every token of the app, and every approval its users gave.
    pub token_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// How many tokens stopped working.
    pub revoked: usize,
}

/// Revoke the app's tokens, one or all (admins): refused at once on the FHIR API. Revoking all
/// also forgets its users' approvals, so that each is asked again.
#[utoipa::path(
    tag = "smart",
    params(("id" = Uuid, Path, description = "The app")),
    request_body = Revoke,
    security(("bearer" = [])),
    responses((status = 200, description = "Revoked", body = Revoked))
)]
#[post("/v1/smart-apps/{id}/revoke")]
pub async fn revoke(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(body): Json<Revoke>,
) -> Result<web::Json<Revoked>, ApiError> {
    let id = id.into_inner();
    let revoked = db::run(&pool, move |conn| {
        service::revoke(conn, caller.tenant, id, body.token_id, Utc::now()).map_err(ApiError::from)
    })
    .await?;
    Ok(web::Json(Revoked { revoked }))
}

/// Withdraw your own authorization of the app (any user; a patient from the patient app): your
/// approval is forgotten and the tokens you gave it stop working at once.
#[utoipa::path(
    tag = "smart",
    params(("id" = Uuid, Path, description = "The app")),
    security(("bearer" = [])),
    responses((status = 204, description = "Withdrawn (or there was nothing to withdraw)"))
)]
#[delete("/v1/smart-apps/{id}/authorization")]
pub async fn withdraw(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        service::withdraw(conn, caller.tenant, id, caller.id, Utc::now()).map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An app the signed-in user authorized.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmartAuthorization {
    /// The app's `client_id`.
    pub app_id: Uuid,
    pub app_name: String,
    /// The scopes approved, in their v2 form.
    pub scopes: Vec<String>,
    pub approved_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmartAuthorizations {
    pub items: Vec<SmartAuthorization>,
}

/// The apps you authorized (any user; the patient app's "Connected apps"), the latest first:
/// withdraw one with `DELETE /v1/smart-apps/{id}/authorization`.
#[utoipa::path(
    tag = "smart",
    security(("bearer" = [])),
    responses((status = 200, description = "Your authorized apps", body = SmartAuthorizations))
)]
#[get("/v1/smart/authorizations")]
pub async fn authorizations(
    pool: web::Data<Pool>,
    caller: Caller,
) -> Result<web::Json<SmartAuthorizations>, ApiError> {
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::smart::approvals(conn, caller.tenant, caller.id)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|a| SmartAuthorization {
            app_id: a.app_id,
            app_name: a.name,
            scopes: a.scopes.split_whitespace().map(String::from).collect(),
            approved_at: a.approved_at,
        })
        .collect();
    Ok(web::Json(SmartAuthorizations { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"patient_id": "0b6f0d5e-9a4e-4c1b-8d55-6a2a1f0e7c11"}))]
pub struct NewLaunch {
    /// The patient the app opens with.
    pub patient_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmartLaunch {
    /// Open this: the app's launch URL with `iss` (the FHIR base) and `launch` (valid 5 minutes,
    /// for this user).
    pub url: String,
}

/// Open the app for a patient (staff): an EHR launch context, bound to the patient and to you.
/// 409 when the app has no launch URL.
#[utoipa::path(
    tag = "smart",
    params(("id" = Uuid, Path, description = "The app")),
    request_body = NewLaunch,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The URL to open", body = SmartLaunch),
        (status = 409, description = "The app has no launch URL", content_type = "application/problem+json", body = crate::error::Problem),
    )
)]
#[post("/v1/smart-apps/{id}/launches")]
pub async fn launch(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(body): Json<NewLaunch>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (app, base) = (id.into_inner(), base_url(&req));
    let url = db::run(&pool, move |conn| {
        service::launch(conn, caller.tenant, caller.id, app, body.patient_id, &base)
            .map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::Created().json(SmartLaunch { url }))
}
