//! FHIR Bulk Data export (Bulk Data Access IG v2), for admins and the clinic's system clients: the kick-off (Patient level, or a
//! Group: a protocol's cohort) answers 202 with the status URL in `Content-Location`; the status
//! answers 202 with `X-Progress` and `Retry-After` while the worker runs, then 200 with the
//! manifest; the files are ndjson, downloaded with the same token; `DELETE` on the status cancels.
//! A clinic runs one export at a time: a second kick-off meanwhile is 429. An export belongs to
//! whoever kicked it off: to anyone else, even an admin of the clinic, its status, files and
//! cancel are 404. A file's download is audited under each patient it holds; an erasure makes the
//! exports holding the patient 410 (see `db::exports::forget_patient`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use chrono::Utc;
use uuid::Uuid;

use super::fhir::{FhirError, Reader, base_url, public_url};
use crate::db::exports::{self, Export, Owner};
use crate::db::{self, Pool, Tenant};
use crate::domain::ids::ProtocolId;
use crate::error::ApiError;
use crate::fhir::export::{self, KEPT, OutputFile};
use crate::fhir::resources;
use crate::services;

fn uuid(id: &str) -> Result<Uuid, FhirError> {
    id.parse().map_err(|_| FhirError(ApiError::NotFound))
}

/// The admin or system client asking, as an export's owner, and their clinic.
fn owner(reader: Reader) -> Result<(Owner, Tenant), FhirError> {
    let system = matches!(reader, Reader::System { .. });
    let (id, tenant) = reader.exporter()?;
    let owner = if system {
        Owner::Client(id)
    } else {
        Owner::Staff(id)
    };
    Ok((owner, tenant))
}

fn status_url(req: &HttpRequest, id: Uuid) -> String {
    format!("{}/$export-status/{id}", base_url(req))
}

/// Exports the clinic's patients' data: Patient, Procedure, QuestionnaireResponse, Observation,
/// AdverseEvent and Media (photos: their bytes are not in the files, but read by each Media's
/// `content.url`, a `Binary`), or the `_type`s named; with `_since`, only what changed since.
/// Needs `Prefer: respond-async`; answers 202 with the status URL in `Content-Location`.
#[utoipa::path(
    tag = "fhir",
    params(
        ("Prefer" = String, Header, description = "Must be `respond-async`", pattern = "^respond-async$"),
        ("_type" = Option<String>, Query, description = "Comma-separated resource types (default: all six)", example = "Patient,Observation"),
        ("_since" = Option<String>, Query, description = "Only resources changed after this instant", example = "2026-11-20T00:00:00Z"),
        ("_outputFormat" = Option<String>, Query, description = "`application/fhir+ndjson` (also `application/ndjson`, `ndjson`)"),
        ("_typeFilter" = Option<String>, Query, description = "A search of one exported type, as its search URL supports it (`Observation?code=redness`); one per type"),
        ("patient" = Option<String>, Query, description = "Only these patients' data: comma-separated Patient references"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted: poll the status URL", headers(("Content-Location" = String, description = "The status URL"))),
        (status = 400, description = "A parameter is wrong or not supported (`_elements`, `includeAssociatedData`, ...; ignored with `Prefer: handling=lenient`)", content_type = "application/fhir+json", body = super::fhir::OperationOutcome),
        (status = 429, description = "An export of this clinic is running", content_type = "application/fhir+json", body = super::fhir::OperationOutcome, headers(("Retry-After" = String))),
    )
)]
#[get("/fhir/R4/Patient/$export")]
pub async fn export_patients(
    pool: web::Data<Pool>,
    reader: Reader,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    kick_off(&pool, owner(reader)?, &req, None).await
}

/// Exports the data of a protocol's cohort (its Group): the patients treated under it. As the
/// Patient-level export otherwise.
#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The Group: a protocol's id"),
        ("Prefer" = String, Header, description = "Must be `respond-async`", pattern = "^respond-async$"),
        ("_type" = Option<String>, Query, description = "Comma-separated resource types (default: all six)"),
        ("_since" = Option<String>, Query, description = "Only resources changed after this instant"),
        ("_outputFormat" = Option<String>, Query, description = "`application/fhir+ndjson` (also `application/ndjson`, `ndjson`)"),
        ("_typeFilter" = Option<String>, Query, description = "A search of one exported type, as its search URL supports it (`Observation?code=redness`); one per type"),
        ("patient" = Option<String>, Query, description = "Only these patients' data: comma-separated Patient references"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted: poll the status URL", headers(("Content-Location" = String, description = "The status URL"))),
        (status = 400, description = "A parameter is wrong or not supported (`_elements`, `includeAssociatedData`, ...; ignored with `Prefer: handling=lenient`)", content_type = "application/fhir+json", body = super::fhir::OperationOutcome),
        (status = 429, description = "An export of this clinic is running", content_type = "application/fhir+json", body = super::fhir::OperationOutcome, headers(("Retry-After" = String))),
    )
)]
#[get("/fhir/R4/Group/{id}/$export")]
pub async fn export_group(
    pool: web::Data<Pool>,
    reader: Reader,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let exporter = owner(reader)?;
    kick_off(&pool, exporter, &req, Some(uuid(&id)?)).await
}

async fn kick_off(
    pool: &Pool,
    (requester, tenant): (Owner, Tenant),
    req: &HttpRequest,
    group: Option<Uuid>,
) -> Result<HttpResponse, FhirError> {
    let prefer = req.headers().get("prefer").and_then(|v| v.to_str().ok());
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    // A Group of another clinic is not found, whatever else is wrong with the request.
    let asked = export::kick_off(prefer, &pairs).map_err(|e| ApiError::BadRequest(e, vec![]));
    let types = asked.as_ref().map(|a| a.types.clone()).unwrap_or_default();
    // The path and query only: a request line in absolute form names a host of its own.
    let asked_url = format!(
        "{}{}",
        public_url(req),
        req.uri()
            .path_and_query()
            .map_or(req.path(), |p| p.as_str())
    );
    let now = Utc::now();
    let new = Export {
        id: Uuid::new_v4(),
        requested_by: requester.id(),
        requester_kind: requester.kind().to_string(),
        type_filters: asked
            .as_ref()
            .map(|a| a.type_filters.iter().cloned().map(Some).collect())
            .unwrap_or_default(),
        patients: asked
            .as_ref()
            .ok()
            .and_then(|a| a.patients.as_ref())
            .map(|list| list.iter().copied().map(Some).collect()),
        request: asked_url,
        group_id: group,
        types: types.iter().map(|k| Some(k.as_str().to_string())).collect(),
        since: asked.as_ref().ok().and_then(|a| a.since),
        status: "queued".into(),
        progress: "queued".into(),
        error: None,
        transaction_time: now,
        created_at: now,
        completed_at: None,
        expires_at: now + KEPT,
        // The database's, when it is stored.
        snapshot: String::new(),
        since_snapshot: None,
    };
    let stored = db::run(pool, move |conn| {
        if let Some(group) = group {
            db::protocols::get(conn, tenant, ProtocolId::from(group))?;
        }
        asked?;
        Ok::<_, ApiError>(services::exports::start(conn, tenant, &new)?)
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::CONTENT_LOCATION, status_url(req, stored.id)))
        .finish())
}

/// An export's status: 202 with `X-Progress` and `Retry-After` while it runs, 200 with the manifest
/// when done, 500 with an OperationOutcome if it failed, 410 once a patient it held was erased,
/// 404 once cancelled or expired (24 hours after the kick-off).
#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The export")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The manifest", content_type = "application/json", body = super::fhir::FhirResource),
        (status = 202, description = "Still running", headers(("X-Progress" = String), ("Retry-After" = String))),
        (status = 404, description = "No such export of this caller's (another caller's export is not found either)", content_type = "application/fhir+json", body = super::fhir::OperationOutcome),
        (status = 410, description = "A patient it held was erased: its files are gone; kick off again", content_type = "application/fhir+json", body = super::fhir::OperationOutcome),
    )
)]
#[get("/fhir/R4/$export-status/{id}")]
pub async fn status(
    pool: web::Data<Pool>,
    reader: Reader,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let (owner, tenant) = owner(reader)?;
    let id = uuid(&id)?;
    let (export, files) = db::run(&pool, move |conn| {
        let export = exports::get(conn, tenant, owner, id)?;
        Ok::<_, ApiError>((export, exports::files(conn, tenant, id)?))
    })
    .await?;
    match export.status.as_str() {
        "queued" | "running" => Ok(HttpResponse::Accepted()
            .insert_header(("X-Progress", export.progress))
            .insert_header((header::RETRY_AFTER, "1"))
            .finish()),
        "completed" => {
            let base = base_url(&req);
            let files: Vec<OutputFile> = files
                .into_iter()
                .map(|f| OutputFile {
                    url: format!("{base}/$export-file/{id}/{}", f.id),
                    kind: f.resource_type,
                    count: f.count,
                })
                .collect();
            let manifest = export::manifest(export.transaction_time, &export.request, &files);
            Ok(HttpResponse::Ok().json(manifest))
        }
        "failed" => {
            let detail = export.error.unwrap_or_default();
            Ok(HttpResponse::InternalServerError()
                .content_type(crate::fhir::JSON)
                .json(resources::operation_outcome(500, &detail)))
        }
        "erased" => {
            let detail = export.error.unwrap_or_default();
            Ok(HttpResponse::Gone()
                .content_type(crate::fhir::JSON)
                .json(resources::operation_outcome(410, &detail)))
        }
        _ => Err(FhirError(ApiError::NotFound)),
    }
}

/// Cancels a running export, or deletes a finished one's files.
#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The export")),
    security(("bearer" = [])),
    responses((status = 202, description = "Cancelled"))
)]
#[delete("/fhir/R4/$export-status/{id}")]
pub async fn cancel(
    pool: web::Data<Pool>,
    reader: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    let (owner, tenant) = owner(reader)?;
    let id = uuid(&id)?;
    db::run(&pool, move |conn| {
        services::exports::cancel(conn, tenant, owner, id).map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// One ndjson file of a finished export: a resource per line. Only whoever kicked the export off
/// downloads it; the audit trail records the download under each patient the file holds.
#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The export"),
        ("file" = String, Path, description = "The file, as the manifest names it"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "The resources, one per line", content_type = "application/fhir+ndjson", body = String))
)]
#[get("/fhir/R4/$export-file/{id}/{file}")]
pub async fn file(
    pool: web::Data<Pool>,
    reader: Reader,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    let (owner, tenant) = owner(reader)?;
    let (export, file) = (uuid(&path.0)?, uuid(&path.1)?);
    let (_, body, patients) = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(exports::file(conn, tenant, owner, export, file)?)
    })
    .await?;
    super::trail::shown(&req, patients);
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+ndjson")
        .body(body))
}
