//! Photos with a check-in: the patient uploads one with their consent, the clinic's staff and the
//! patient read it (every read audited), the patient gives or withdraws the before-and-after
//! consent, a clinician flags one for a colleague's review. `services::photos` checks and stores.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Page, PageParams, created};
use crate::db::photos::WithDay;
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::ids::{CheckInId, PatientId, StaffId};
use crate::domain::photos::MAX_BYTES;
use crate::error::{ApiError, Problem, ProblemType};
use crate::services::photo_store::PhotoStore;
use crate::services::photos::{self as service, Refused, Target};
use crate::web::auth::Caller;

/// A photo, as the patient sent it and the server re-encoded it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Photo {
    pub id: Uuid,
    pub check_in_id: Uuid,
    pub patient_id: Uuid,
    /// Days since the treatment of its check-in, in the clinic's time zone; the treatment day is 0.
    pub day: i32,
    /// Always `image/jpeg`: every photo is re-encoded, without its metadata.
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    /// The re-encoded photo's size.
    pub bytes: i64,
    /// Where the photo is read, with the same token as this answer.
    pub url: String,
    /// Where its thumbnail (at most 320 px a side) is read.
    pub thumbnail_url: String,
    pub consent: PhotoConsent,
    /// Set when a clinician asked a colleague to look at the photo.
    pub review_flag: Option<ReviewFlag>,
    pub created_at: DateTime<Utc>,
}

/// What the patient consented to, for this photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoConsent {
    /// Clinical use: every photo is sent under it.
    pub clinical_use_at: DateTime<Utc>,
    /// Whether the clinic may show it as a before-and-after picture.
    pub before_after: bool,
    /// When the before-and-after consent was given, while it holds.
    pub before_after_at: Option<DateTime<Utc>>,
    /// When it was last withdrawn.
    pub before_after_withdrawn_at: Option<DateTime<Utc>>,
}

/// Who flagged a photo for review, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewFlag {
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

impl From<WithDay> for Photo {
    fn from((p, day): WithDay) -> Self {
        let url = format!("/v1/check-ins/{}/photos/{}", p.check_in_id, p.id);
        Photo {
            id: p.id,
            check_in_id: p.check_in_id.uuid(),
            patient_id: p.patient_id.uuid(),
            day,
            content_type: p.content_type,
            width: p.width,
            height: p.height,
            bytes: p.bytes,
            thumbnail_url: format!("{url}/thumbnail"),
            url,
            consent: PhotoConsent {
                clinical_use_at: p.clinical_use_consented_at,
                before_after: p.before_after_consented_at.is_some(),
                before_after_at: p.before_after_consented_at,
                before_after_withdrawn_at: p.before_after_withdrawn_at,
            },
            review_flag: p
                .flagged_by
                .zip(p.flagged_at)
                .map(|(by, at)| ReviewFlag { by: by.uuid(), at }),
            created_at: p.created_at,
        }
    }
}

/// An image's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, example = "(the image's bytes)")]
pub struct PhotoBytes(pub Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The patient's consent to the photo's clinical use: must be `true` to send it.
    // An Option, checked after the check-in is found: a stranger gets the 404, not a 400 or 422.
    #[param(required = true)]
    pub clinical_use: Option<bool>,
    /// The patient's consent to the clinic's before-and-after use (default false); it can be
    /// given or withdrawn later.
    pub before_after: Option<bool>,
}

/// Send a photo with one of your check-ins.
///
/// The body is the image itself: a JPEG, PNG or WebP of at most 10 MB and 40 megapixels, told by
/// its bytes whatever type is declared. The server re-encodes it as a JPEG with its orientation
/// applied and every metadata segment (location, device, time) dropped, the colour profile kept,
/// and makes a thumbnail.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), UploadParams),
    request_body(content = PhotoBytes, content_type = "application/octet-stream", description = "The image's bytes"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = Photo, headers(("Location" = String))),
        (status = 413, description = "The image is over 10 MB", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:payload-too-large", "title": "The request body is too large",
                "status": 413, "detail": "the limit is 10485760 bytes"})),
        (status = 415, description = "The body is not a JPEG, PNG or WebP by its content (an SVG, a PDF, whatever its name or declared type)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:unsupported-media-type", "title": "Send a photo: a JPEG, PNG or WebP image",
                "status": 415, "detail": "the body is not a JPEG, PNG or WebP image by its content"})),
        (status = 422, description = "`clinical_use` is not true; or the image is over 40 megapixels (a decompression bomb is refused from its header), damaged or cut short", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/check-ins/{id}/photos")]
pub async fn upload(
    pool: web::Data<Pool>,
    store: web::Data<PhotoStore>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: web::Query<UploadParams>,
    http: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let check_in_id = id.into_inner();
    let check_in = db::run(&pool, move |conn| {
        db::check_ins::get(conn, caller.tenant, CheckInId::from(check_in_id))?
            .ok_or(ApiError::NotFound)
    })
    .await?;
    let (patient_id, treatment_id) = (check_in.0.patient_id, check_in.0.treatment_id);
    caller.may_see_patient(patient_id.uuid())?;
    if params.clinical_use != Some(true) {
        return Err(ApiError::invalid(
            "clinical_use",
            "must be true: a photo is sent for the clinic's clinical use",
        ));
    }
    let bytes = read_body(&http, body).await?;
    let target = Target {
        tenant: caller.tenant,
        check_in_id: CheckInId::from(check_in_id),
        patient_id,
        treatment_id,
    };
    let before_after = params.before_after.unwrap_or(false);
    match service::upload(&pool, &store, target, before_after, bytes).await {
        Ok(photo) => {
            let photo = Photo::from(photo);
            Ok(created(photo.url.clone(), photo))
        }
        Err(Refused::NotAnImage) => Ok(not_an_image()),
        Err(Refused::Failed(e)) => Err(e.into()),
    }
}

/// The body, at most [`MAX_BYTES`]: a larger one is refused as soon as that is known.
async fn read_body(http: &HttpRequest, mut body: web::Payload) -> Result<Vec<u8>, ApiError> {
    let declared = http
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BYTES) {
        return Err(ApiError::PayloadTooLarge(MAX_BYTES));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest(format!("reading the body failed: {e}"), vec![]))?;
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// 415, saying what is taken (the error type's own text asks for JSON).
fn not_an_image() -> HttpResponse {
    HttpResponse::UnsupportedMediaType()
        .content_type("application/problem+json")
        .json(Problem {
            kind: ProblemType::UnsupportedMediaType,
            title: "Send a photo: a JPEG, PNG or WebP image".into(),
            status: 415,
            detail: "the body is not a JPEG, PNG or WebP image by its content".into(),
            errors: vec![],
        })
}

/// A patient's photos, oldest first, each with its day since treatment. A patient may list their own.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The patient"), PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of photos", body = Page<Photo>))
)]
#[get("/v1/patients/{id}/photos")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<Photo>>, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    let page = params.request()?;
    let rows = db::run(&pool, move |conn| {
        db::patients::get(conn, caller.tenant, PatientId::from(patient_id))?;
        Ok::<_, ApiError>(db::photos::page_of_patient(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
            page,
        )?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |(p, _)| Cursor {
        at: p.created_at,
        id: p.id,
    });
    Ok(web::Json(Page::new(rows, next, Photo::from)))
}

/// The photo, if the caller may see it: the clinic's staff, or its patient.
async fn find(pool: &Pool, caller: Caller, ids: (Uuid, Uuid)) -> Result<WithDay, ApiError> {
    let (check_in_id, id) = ids;
    let photo = db::run(pool, move |conn| {
        db::photos::get(conn, caller.tenant, CheckInId::from(check_in_id), id)?
            .ok_or(ApiError::NotFound)
    })
    .await?;
    caller.may_see_patient(photo.0.patient_id.uuid())?;
    Ok(photo)
}

fn jpeg(bytes: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("image/jpeg").body(bytes)
}

/// A photo's JPEG.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo", body = PhotoBytes, content_type = "image/jpeg"))
)]
#[get("/v1/check-ins/{id}/photos/{photo_id}")]
pub async fn get(
    pool: web::Data<Pool>,
    store: web::Data<PhotoStore>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (photo, _) = find(&pool, caller, ids.into_inner()).await?;
    Ok(jpeg(store.get(&photo.storage_key).await?))
}

/// A photo's thumbnail: a JPEG of at most 320 px a side.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The thumbnail", body = PhotoBytes, content_type = "image/jpeg"))
)]
#[get("/v1/check-ins/{id}/photos/{photo_id}/thumbnail")]
pub async fn thumbnail(
    pool: web::Data<Pool>,
    store: web::Data<PhotoStore>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (photo, _) = find(&pool, caller, ids.into_inner()).await?;
    Ok(jpeg(store.get(&photo.thumbnail_key).await?))
}

async fn set_before_after(
    pool: &Pool,
    caller: Caller,
    (check_in_id, id): (Uuid, Uuid),
    consent: bool,
) -> Result<web::Json<Photo>, ApiError> {
    // Only a patient may call (the operation's roles): the photo must be theirs.
    let owner = PatientId::from(caller.id);
    let photo = db::run(pool, move |conn| {
        let ids = (CheckInId::from(check_in_id), id);
        service::set_before_after(conn, caller.tenant, ids, owner, consent)
    })
    .await?;
    Ok(web::Json(photo.into()))
}

/// Give the clinic your consent to show this photo as a before-and-after picture.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo, with the consent given", body = Photo))
)]
#[put("/v1/check-ins/{id}/photos/{photo_id}/before-after-consent")]
pub async fn give_before_after(
    pool: web::Data<Pool>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Photo>, ApiError> {
    set_before_after(&pool, caller, ids.into_inner(), true).await
}

/// Withdraw your consent to the photo's before-and-after use; its clinical use stays.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo, with the consent withdrawn", body = Photo))
)]
#[delete("/v1/check-ins/{id}/photos/{photo_id}/before-after-consent")]
pub async fn withdraw_before_after(
    pool: web::Data<Pool>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Photo>, ApiError> {
    set_before_after(&pool, caller, ids.into_inner(), false).await
}

async fn set_flag(
    pool: &Pool,
    caller: Caller,
    ids: (Uuid, Uuid),
    flagged: bool,
) -> Result<web::Json<Photo>, ApiError> {
    let (check_in_id, id) = ids;
    let by = flagged.then_some(StaffId::from(caller.id));
    let photo = db::run(pool, move |conn| {
        service::set_flag(conn, caller.tenant, (CheckInId::from(check_in_id), id), by)
    })
    .await?;
    Ok(web::Json(photo.into()))
}

/// Flag the photo for a colleague's review.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo, flagged by you", body = Photo))
)]
#[put("/v1/check-ins/{id}/photos/{photo_id}/review-flag")]
pub async fn flag(
    pool: web::Data<Pool>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Photo>, ApiError> {
    set_flag(&pool, caller, ids.into_inner(), true).await
}

/// Clear the photo's review flag.
#[utoipa::path(
    tag = "photos",
    params(("id" = Uuid, Path, description = "The check-in"), ("photo_id" = Uuid, Path, description = "The photo")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo, without its flag", body = Photo))
)]
#[delete("/v1/check-ins/{id}/photos/{photo_id}/review-flag")]
pub async fn unflag(
    pool: web::Data<Pool>,
    caller: Caller,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Photo>, ApiError> {
    set_flag(&pool, caller, ids.into_inner(), false).await
}
