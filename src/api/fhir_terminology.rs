//! Aftercare's code systems over FHIR: `CodeSystem` and `ValueSet` (read, and search by `url`),
//! `CodeSystem/$lookup` and `$validate-code`, for whoever may read the clinic's FHIR resources.
//! Our fixed systems are the same for every clinic; the clinic's own items are its own.

use actix_web::{HttpRequest, HttpResponse, get, web};
use std::collections::HashMap;

use serde_json::Value;

use super::fhir::{FhirError, FhirResource, Reader, base_url};
use crate::db::{self, Pool, Tenant};
use crate::error::ApiError;
use crate::fhir::terminology::{self as t, Published};
use crate::fhir::{JSON, resources};

async fn published(pool: &Pool, tenant: Tenant) -> Result<Vec<Published>, FhirError> {
    let catalogue = db::run(pool, move |conn| {
        db::symptoms::catalogue(conn, tenant).map_err(ApiError::from)
    })
    .await?;
    Ok(t::published(tenant.id().uuid(), &catalogue))
}

fn fhir_json(body: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).json(body)
}

fn bad(message: String) -> FhirError {
    FhirError(ApiError::BadRequest(message, vec![]))
}

/// The query's parameters, each at most once, of those `allowed` (a FHIR client gets an
/// OperationOutcome for any other, not the REST API's problem).
fn params(req: &HttpRequest, allowed: &[&str]) -> Result<HashMap<String, String>, FhirError> {
    let mut out = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if !allowed.contains(&name.as_ref()) {
            return Err(bad(format!(
                "{name}: not a parameter here (it takes {})",
                allowed.join(", ")
            )));
        }
        if out.insert(name.to_string(), value.to_string()).is_some() {
            return Err(bad(format!("{name}: given twice")));
        }
    }
    Ok(out)
}

/// A search of code systems or value sets: by canonical URL (`url|version` is read as the URL;
/// every version is the current one), or all of them. Every match fits on one page.
const SEARCH: [&str; 2] = ["url", "_count"];

/// A search: its parameters checked, the clinic's systems loaded, each built by `build` and the
/// matches answered as a searchset Bundle of `kind`.
async fn search(
    pool: &Pool,
    tenant: Tenant,
    req: &HttpRequest,
    kind: &str,
    build: fn(&Published) -> Value,
) -> Result<HttpResponse, FhirError> {
    let q = params(req, &SEARCH)?;
    check_count(&q)?;
    let all = published(pool, tenant).await?;
    let wanted = q.get("url").map(String::as_str);
    Ok(fhir_json(&searchset(req, kind, &all, wanted, build)))
}

fn searchset(
    req: &HttpRequest,
    kind: &str,
    all: &[Published],
    wanted: Option<&str>,
    build: fn(&Published) -> Value,
) -> Value {
    let url = wanted.map(|u| u.split('|').next().unwrap_or(u));
    let entries: Vec<(String, Value)> = all
        .iter()
        .map(build)
        .filter(|r| url.is_none_or(|u| r["url"] == u))
        .map(|r| {
            (
                format!("{kind}/{}", r["id"].as_str().unwrap_or_default()),
                r,
            )
        })
        .collect();
    let base = base_url(req);
    let query = req.query_string();
    let self_url = format!(
        "{base}/{kind}{}{query}",
        if query.is_empty() { "" } else { "?" }
    );
    let total = entries.len();
    resources::searchset(&base, entries, &self_url, None, Some(total))
}

/// A read: the clinic's systems loaded, the one with this id built by `build`.
async fn read(
    pool: &Pool,
    tenant: Tenant,
    id: &str,
    build: fn(&Published) -> Value,
) -> Result<HttpResponse, FhirError> {
    let all = published(pool, tenant).await?;
    let found = all.iter().find(|p| p.id == id);
    Ok(fhir_json(&build(
        found.ok_or(FhirError(ApiError::NotFound))?,
    )))
}

/// Searches the code systems: ours (symptom items, answer scale, aftercare questions,
/// procedures, areas, outcomes, assessors) and the clinic's own items.
#[utoipa::path(
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "The canonical URL"),
        ("_count" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1-200, as the other searches take; every match fits on one page"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "A searchset Bundle of CodeSystems", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/CodeSystem")]
pub async fn code_systems(
    pool: web::Data<Pool>,
    reader: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    search(&pool, reader.reader(), &req, "CodeSystem", t::code_system).await
}

/// Reads a code system: `symptom`, `answer`, `aftercare-question`, `procedure`, `area`,
/// `outcome`, `assessor`, or `clinic-{clinic id}` (the clinic's own items).
#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The CodeSystem's id", example = "answer")),
    security(("bearer" = [])),
    responses((status = 200, description = "The CodeSystem", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/CodeSystem/{id}")]
pub async fn code_system(
    pool: web::Data<Pool>,
    reader: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&pool, reader.reader(), &id, t::code_system).await
}

/// Searches the value sets: one per code system, of all its codes.
#[utoipa::path(
    tag = "fhir",
    params(
        ("url" = Option<String>, Query, description = "The canonical URL"),
        ("_count" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1-200, as the other searches take; every match fits on one page"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "A searchset Bundle of ValueSets", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/ValueSet")]
pub async fn value_sets(
    pool: web::Data<Pool>,
    reader: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    search(&pool, reader.reader(), &req, "ValueSet", t::value_set).await
}

/// Reads a value set; its id is its code system's.
#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The ValueSet's id", example = "answer")),
    security(("bearer" = [])),
    responses((status = 200, description = "The ValueSet", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/ValueSet/{id}")]
pub async fn value_set(
    pool: web::Data<Pool>,
    reader: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&pool, reader.reader(), &id, t::value_set).await
}

/// `$lookup` takes the system and the code; `displayLanguage` and `version` are accepted and
/// ignored (the answer gives English and German; the current version is the only one).
const LOOKUP: [&str; 4] = ["system", "code", "displayLanguage", "version"];
/// `$validate-code` takes the code system's or value set's `url`, the code and a display to check.
const VALIDATE: [&str; 4] = ["url", "code", "display", "displayLanguage"];

fn required<'a>(p: &'a HashMap<String, String>, name: &str) -> Result<&'a str, FhirError> {
    // Present but empty names nothing, which is found nowhere: only a missing one is a 400.
    p.get(name)
        .map(String::as_str)
        .ok_or_else(|| bad(format!("{name} is required")))
}

/// `_count`, if given, must be what the other searches take (1-200); every match fits on one
/// page, so it changes nothing else.
fn check_count(p: &HashMap<String, String>) -> Result<(), FhirError> {
    match p.get("_count").map(|c| c.parse::<i64>()) {
        None | Some(Ok(1..=200)) => Ok(()),
        Some(_) => Err(bad("_count: must be a whole number from 1 to 200".into())),
    }
}

/// `$lookup`: a code's display, German designation and (for an answer) grade, as Parameters. A
/// code not in the system is a 404.
#[utoipa::path(
    tag = "fhir",
    params(
        ("system" = String, Query, description = "The code system's canonical URL"),
        ("code" = String, Query, description = "The code", example = "severe"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Parameters: name, version, display, designation, property", content_type = "application/fhir+json", body = FhirResource),
        (status = 404, description = "No such code in that system (or no such system of this server)", content_type = "application/fhir+json", body = super::fhir::OperationOutcome),
    )
)]
#[get("/fhir/R4/CodeSystem/$lookup")]
pub async fn lookup(
    pool: web::Data<Pool>,
    reader: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let q = params(&req, &LOOKUP)?;
    let (system, code) = (required(&q, "system")?, required(&q, "code")?);
    let all = published(&pool, reader.reader()).await?;
    let found = t::lookup(&all, system, code).ok_or(FhirError(ApiError::NotFound))?;
    Ok(fhir_json(&found))
}

/// `$validate-code`: whether the code is in the code system or value set (`url`), and a display,
/// if given, is the concept's, as Parameters (`result`, and `display` or `message`).
#[utoipa::path(
    tag = "fhir",
    params(
        ("url" = String, Query, description = "The code system's or value set's canonical URL"),
        ("code" = String, Query, description = "The code", example = "severe"),
        ("display" = Option<String>, Query, description = "A display to check: the concept's in English or German"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "Parameters: result, display or message", content_type = "application/fhir+json", body = FhirResource))
)]
#[get("/fhir/R4/CodeSystem/$validate-code")]
pub async fn validate_code(
    pool: web::Data<Pool>,
    reader: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let q = params(&req, &VALIDATE)?;
    let url = required(&q, "url")?;
    let code = required(&q, "code")?;
    let all = published(&pool, reader.reader()).await?;
    let display = q.get("display").map(String::as_str);
    Ok(fhir_json(&t::validate_code(&all, url, code, display)))
}
