//! `GET /fhir/R4/Binary/{id}`: a photo's bytes, which its `Media` names by URL (`content.url`)
//! rather than holding them. The same readers as every FHIR read, each read in the audit trail as
//! a read of the photo under its patient, as the REST API's photo reads are.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use uuid::Uuid;

use super::fhir::{FhirError, FhirResource, Reader, fhir_json};
use super::photos::PhotoBytes;
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::fhir::kind::Kind;
use crate::fhir::media;
use crate::services::photo_store::PhotoStore;

/// Whether the request asks for FHIR's JSON (a Binary resource) rather than the bytes themselves:
/// its Accept names `application/fhir+json` or `application/json` and no image type, nor `*/*`,
/// ahead of it. Without an Accept, or with `image/*` or `*/*` first, it gets the image.
fn wants_resource(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accept
        .split(',')
        .map(|r| {
            r.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .find(|r| r == "*/*" || r.starts_with("image/") || r.ends_with("json"))
        .is_some_and(|r| r == "application/fhir+json" || r == "application/json")
}

/// Reads a photo's bytes: the image itself (`image/jpeg`, as every photo is re-encoded) unless the
/// request's `Accept` asks for `application/fhir+json` (or `application/json`) first, then a
/// `Binary` resource with the bytes in base64 and the patient as its security context.
#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, max_length = 64, description = "The photo's id (its Media's)"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo: the image, or a Binary resource",
        content(
            (PhotoBytes = "image/jpeg"),
            (FhirResource = "application/fhir+json"),
        )))
)]
#[get("/fhir/R4/Binary/{id}")]
pub async fn read_binary(
    pool: web::Data<Pool>,
    store: web::Data<PhotoStore>,
    reader: Reader,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, FhirError> {
    // An app reads the bytes as it may read their Media.
    if let Reader::App(grant) = &reader {
        grant.allows(Kind::Media, false)?;
    }
    let tenant = reader.reader();
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let (photo, _) = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::photos::media_one(conn, tenant, id)?)
    })
    .await?;
    if let Reader::App(grant) = &reader
        && !grant.holds(Kind::Media, Some(photo.patient_id.uuid()))
    {
        return Err(FhirError(ApiError::NotFound));
    }
    let bytes = store
        .get(&photo.storage_key)
        .await
        .map_err(ApiError::from)?;
    crate::api::trail::shown(&req, [photo.patient_id.uuid()]);
    if wants_resource(&req) {
        return Ok(fhir_json(&media::binary(&photo, &bytes)));
    }
    Ok(HttpResponse::Ok()
        .content_type(photo.content_type.as_str())
        .body(bytes))
}
