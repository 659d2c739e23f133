//! Daily check-ins from patients' phones: one at a time, or a batch when an app syncs after being
//! offline. Both are idempotent by the id the app chooses; `services::check_ins` stores them.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Audited, Json, Page, PageParams, audit_draft, parse};
use crate::db::check_ins::Stored;
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::alerts::{Level, Rule};
use crate::domain::ids::{CheckInId, PatientId, TreatmentId};
use crate::error::{ApiError, Problem};
use crate::services::alerts;
use crate::services::check_ins::{self, Deps, Outcome};
use crate::web::auth::Caller;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "3f0c2a9e-8b1d-4c6e-9f2a-7d5b3c1e0a94",
    "treatment_id": "a81b4c2d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
    "recorded_at": "2026-11-21T08:30:00+01:00",
    "scores": {"redness": 2, "swelling": 1, "flaking": 0, "infection": 0, "fever": 0},
    "aftercare": {"sunscreen": true, "sun_exposure": false},
    "note": "a little tight in the morning"
}))]
pub struct NewCheckIn {
    /// Chosen by the app; sending the same check-in again with this id stores nothing new.
    pub id: Uuid,
    pub treatment_id: Uuid,
    /// When the patient answered, with its offset; not before the treatment nor more than 5 minutes ahead.
    pub recorded_at: DateTime<Utc>,
    /// Symptom code to score: severity items 0-4 (None, Mild, Moderate, Severe, Very severe, at its
    /// worst today; derived from PRO-CTCAE), presence items 0-1 (No, Yes). Any subset of the catalogue.
    pub scores: BTreeMap<String, i64>,
    #[serde(default)]
    pub aftercare: AftercareAnswers,
    /// Not blank, at most 2000 characters.
    #[schema(max_length = 2000, pattern = r"\S")]
    pub note: Option<String>,
}

impl From<NewCheckIn> for check_ins::NewCheckIn {
    fn from(c: NewCheckIn) -> Self {
        check_ins::NewCheckIn {
            id: c.id,
            treatment_id: TreatmentId::from(c.treatment_id),
            recorded_at: c.recorded_at,
            scores: c.scores,
            aftercare: c.aftercare.into(),
            note: c.note,
        }
    }
}

/// Answers to the aftercare questions; each may be left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AftercareAnswers {
    pub sunscreen: Option<bool>,
    pub sun_exposure: Option<bool>,
    pub makeup: Option<bool>,
    pub exercise: Option<bool>,
    pub hot_shower: Option<bool>,
}

impl From<AftercareAnswers> for check_ins::AftercareAnswers {
    fn from(a: AftercareAnswers) -> Self {
        check_ins::AftercareAnswers {
            sunscreen: a.sunscreen,
            sun_exposure: a.sun_exposure,
            makeup: a.makeup,
            exercise: a.exercise,
            hot_shower: a.hot_shower,
        }
    }
}

/// An alert a check-in raised, or added its evidence to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRef {
    pub id: Uuid,
    pub rule: Rule,
    pub level: Level,
}

impl From<alerts::AlertRef> for AlertRef {
    fn from(a: alerts::AlertRef) -> Self {
        AlertRef {
            id: a.id,
            rule: a.rule,
            level: a.level,
        }
    }
}

/// The answer to a posted check-in: the stored check-in and the alerts it raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInReceipt {
    #[serde(flatten)]
    pub check_in: CheckIn,
    pub alerts: Vec<AlertRef>,
    /// True when an alert is urgent: the app should tell the patient to contact the clinic.
    pub contact_clinic: bool,
    /// What to tell the patient when `contact_clinic` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

const CONTACT_CLINIC: &str = "Some of your answers need a clinician's attention. Please contact your clinic today; \
    if you feel very unwell, seek urgent care.";

fn receipt(stored: Stored, alerts: Vec<alerts::AlertRef>) -> CheckInReceipt {
    let urgent = alerts.iter().any(|a| a.level == Level::Urgent);
    CheckInReceipt {
        check_in: stored.into(),
        alerts: alerts.into_iter().map(AlertRef::from).collect(),
        contact_clinic: urgent,
        message: urgent.then_some(CONTACT_CLINIC),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckIn {
    pub id: Uuid,
    pub treatment_id: Uuid,
    pub patient_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// Days since the treatment in the clinic's time zone; the treatment day is 0.
    pub day: i32,
    pub scores: BTreeMap<String, i16>,
    pub aftercare: AftercareAnswers,
    pub note: Option<String>,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
}

impl From<Stored> for CheckIn {
    fn from((c, scores): Stored) -> Self {
        CheckIn {
            id: c.id.uuid(),
            treatment_id: c.treatment_id.uuid(),
            patient_id: c.patient_id.uuid(),
            recorded_at: c.recorded_at,
            day: c.day,
            scores: scores
                .into_iter()
                .map(|s| (s.symptom_code, s.score))
                .collect(),
            aftercare: AftercareAnswers {
                sunscreen: c.sunscreen,
                sun_exposure: c.sun_exposure,
                makeup: c.makeup,
                exercise: c.exercise,
                hot_shower: c.hot_shower,
            },
            note: c.note,
            received_at: c.received_at,
        }
    }
}

/// Record a check-in.
///
/// Sending the same check-in again (same `id`, same content) answers 200 with the stored check-in
/// and stores nothing new; the same `id` with different content is a 409.
#[utoipa::path(
    tag = "check-ins",
    request_body = NewCheckIn,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = CheckInReceipt, headers(("Location" = String))),
        (status = 200, description = "Stored before; nothing new was stored", body = CheckInReceipt),
        (status = 409, description = "A different check-in has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/check-ins")]
pub async fn create(
    pool: web::Data<Pool>,
    deps: web::Data<Deps>,
    caller: Caller,
    http: HttpRequest,
    Json(req): Json<NewCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let patient_id = caller.id;
    let audit = audit_draft(&http).map(|(_, _, event)| event);
    let outcome = db::run(&pool, move |conn| {
        check_ins::record(
            conn,
            &deps,
            caller.tenant,
            PatientId::from(patient_id),
            req.into(),
            audit,
        )
    })
    .await?;
    http.extensions_mut().insert(Audited);
    Ok(match outcome {
        Outcome::Created(stored, alerts) => super::extract::created(
            format!("/v1/check-ins/{}", stored.0.id),
            receipt(stored, alerts),
        ),
        Outcome::Replayed(stored, alerts) => HttpResponse::Ok().json(receipt(stored, alerts)),
    })
}

pub const BATCH_LIMIT_BYTES: usize = 1024 * 1024;
pub const MAX_BATCH: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"check_ins": [{
    "id": "3f0c2a9e-8b1d-4c6e-9f2a-7d5b3c1e0a94",
    "treatment_id": "a81b4c2d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
    "recorded_at": "2026-11-21T08:30:00+01:00",
    "scores": {"redness": 2, "swelling": 1}
}]}))]
pub struct CheckInBatch {
    /// 1 to 100 check-ins. Each is checked, and stored or refused, on its own: an item that is not
    /// a valid `NewCheckIn` is refused in its result (422) without failing the others.
    #[schema(min_items = 1, max_items = 100, value_type = Vec<NewCheckIn>)]
    pub check_ins: Vec<serde_json::Value>,
}

/// What became of one check-in of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the batch, from 0.
    pub index: usize,
    pub id: Option<Uuid>,
    /// As if the item had been posted alone: 201 stored, 200 stored before, 409, or 422.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<CheckInReceipt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<BatchItemResult>,
}

/// Record up to 100 check-ins at once, as an app does when it syncs after being offline.
///
/// Valid items are stored and invalid ones reported, each with the status it would have had on
/// its own. Retrying the whole batch is safe.
#[utoipa::path(
    tag = "check-ins",
    request_body = CheckInBatch,
    security(("bearer" = [])),
    responses((status = 200, description = "One result per item, in order", body = BatchResult))
)]
#[post("/v1/check-ins/batch")]
pub async fn create_batch(
    pool: web::Data<Pool>,
    deps: web::Data<Deps>,
    caller: Caller,
    http: HttpRequest,
    Json(batch): Json<CheckInBatch, BATCH_LIMIT_BYTES>,
) -> Result<web::Json<BatchResult>, ApiError> {
    let patient_id = caller.id;
    if batch.check_ins.is_empty() || batch.check_ins.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "check_ins",
            "must hold 1 to 100 check-ins",
        ));
    }
    // Each item is parsed on its own, so one of another shape is refused without failing the rest.
    let ids: Vec<Option<Uuid>> = batch.check_ins.iter().map(item_id).collect();
    let parsed: Vec<Result<check_ins::NewCheckIn, ApiError>> = batch
        .check_ins
        .iter()
        .map(|item| {
            serde_json::to_vec(item)
                .map_err(ApiError::internal)
                .and_then(|bytes| parse::<NewCheckIn>(&bytes))
                .map(check_ins::NewCheckIn::from)
        })
        .collect();
    // The items that parse go to the service; each other one keeps its error, in its place.
    let places: Vec<bool> = parsed.iter().map(Result::is_ok).collect();
    let (items, refused): (Vec<_>, Vec<_>) = parsed.into_iter().partition(Result::is_ok);
    let items: Vec<check_ins::NewCheckIn> = items.into_iter().flatten().collect();
    let mut refused = refused.into_iter().filter_map(Result::err);
    let audit = audit_draft(&http).map(|(_, _, event)| event);
    let mut stored = db::run(&pool, move |conn| {
        check_ins::record_batch(
            conn,
            &deps,
            caller.tenant,
            PatientId::from(patient_id),
            items,
            audit,
        )
    })
    .await?
    .into_iter();
    http.extensions_mut().insert(Audited);
    let outcomes = places
        .into_iter()
        .filter_map(|parsed| match parsed {
            true => stored.next().map(|o| o.map_err(ApiError::from)),
            false => refused.next().map(Err),
        })
        .collect();
    Ok(web::Json(BatchResult {
        results: results(outcomes, ids),
    }))
}

/// Each item's result, with the status it would have had on its own.
fn results(
    outcomes: Vec<Result<Outcome, ApiError>>,
    ids: Vec<Option<Uuid>>,
) -> Vec<BatchItemResult> {
    outcomes
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(index, (outcome, id))| {
            let (status, check_in, problem) = match outcome {
                Ok(Outcome::Created(s, a)) => (StatusCode::CREATED, Some(receipt(s, a)), None),
                Ok(Outcome::Replayed(s, a)) => (StatusCode::OK, Some(receipt(s, a)), None),
                Err(e) => (e.status_code(), None, Some(e.problem())),
            };
            let status = status.as_u16();
            BatchItemResult {
                index,
                id,
                status,
                check_in,
                problem,
            }
        })
        .collect()
}

/// The id an item of a batch gives itself, if it gives a valid one.
fn item_id(item: &serde_json::Value) -> Option<Uuid> {
    item.get("id")?.as_str()?.parse().ok()
}

/// One check-in.
#[utoipa::path(
    tag = "check-ins",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The check-in", body = CheckIn))
)]
#[get("/v1/check-ins/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<CheckIn>, ApiError> {
    let id = id.into_inner();
    let stored = db::run(&pool, move |conn| {
        db::check_ins::get(conn, caller.tenant, CheckInId::from(id))?.ok_or(ApiError::NotFound)
    })
    .await?;
    caller.may_see_patient(stored.0.patient_id.uuid())?;
    Ok(web::Json(stored.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckInFilter {
    /// Only the check-ins of this treatment.
    pub treatment_id: Option<Uuid>,
}

/// A patient's check-ins, newest first. A patient may list their own.
#[utoipa::path(
    tag = "check-ins",
    params(("id" = Uuid, Path, description = "The patient"), CheckInFilter, PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of check-ins", body = Page<CheckIn>))
)]
#[get("/v1/patients/{id}/check-ins")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    filter: web::Query<CheckInFilter>,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<CheckIn>>, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    let page = params.request()?;
    let treatment_id = filter.treatment_id;
    let rows = db::run(&pool, move |conn| {
        db::patients::get(conn, caller.tenant, PatientId::from(patient_id))?;
        Ok::<_, ApiError>(db::check_ins::page_of_patient(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
            treatment_id.map(TreatmentId::from),
            page,
        )?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |(c, _)| Cursor {
        at: c.recorded_at,
        id: c.id.uuid(),
    });
    Ok(web::Json(Page::new(rows, next, CheckIn::from)))
}
