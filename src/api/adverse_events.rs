//! Complications (adverse events) recorded by clinicians: a term, a CTCAE grade, seriousness and an
//! outcome, announced to the clinic's webhooks.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, double_option};
use super::treatments::visible;
use crate::db::{self, Pool};
use crate::domain::codes::AdverseOutcome;
use crate::domain::ids::{AdverseEventId, StaffId, TreatmentId};
use crate::error::ApiError;
use crate::services::adverse_events::{self, Complication};
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "term": "post-inflammatory hyperpigmentation", "grade": 2, "serious": false,
    "onset_date": "2026-11-14", "outcome": "recovering", "notes": "Hydroquinone started."
}))]
pub struct NewAdverseEvent {
    /// Not blank, at most 200 characters.
    #[schema(max_length = 200, pattern = r"\S")]
    pub term: String,
    /// CTCAE grade: 1 mild, 2 moderate, 3 severe or medically significant, 4 life-threatening, 5 death.
    #[schema(minimum = 1, maximum = 5)]
    pub grade: i16,
    pub serious: bool,
    /// Between the treatment date and today.
    pub onset_date: NaiveDate,
    pub outcome: AdverseOutcome,
    /// Not blank, at most 10000 characters.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub notes: Option<String>,
}

/// Changes to a complication: a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "resolved"}))]
pub struct AdverseEventPatch {
    #[schema(max_length = 200, pattern = r"\S")]
    pub term: Option<String>,
    #[schema(minimum = 1, maximum = 5)]
    pub grade: Option<i16>,
    pub serious: Option<bool>,
    /// Between the treatment date and today.
    pub onset_date: Option<NaiveDate>,
    pub outcome: Option<AdverseOutcome>,
    /// `null` clears the notes.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 10000, pattern = r"\S")]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEvent {
    pub id: Uuid,
    pub treatment_id: Uuid,
    pub patient_id: Uuid,
    pub term: String,
    pub grade: i16,
    pub serious: bool,
    pub onset_date: NaiveDate,
    pub outcome: AdverseOutcome,
    pub notes: Option<String>,
    pub recorded_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<db::adverse_events::AdverseEvent> for AdverseEvent {
    fn from(e: db::adverse_events::AdverseEvent) -> Self {
        AdverseEvent {
            id: e.id.uuid(),
            treatment_id: e.treatment_id.uuid(),
            patient_id: e.patient_id.uuid(),
            term: e.term,
            grade: e.grade,
            serious: e.serious,
            onset_date: e.onset_date,
            outcome: e.outcome,
            notes: e.notes,
            recorded_by: e.recorded_by.uuid(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl From<NewAdverseEvent> for Complication {
    fn from(r: NewAdverseEvent) -> Self {
        Complication {
            term: r.term,
            grade: r.grade,
            serious: r.serious,
            onset_date: r.onset_date,
            outcome: r.outcome,
            notes: r.notes,
        }
    }
}

impl From<AdverseEventPatch> for db::adverse_events::Changes {
    fn from(r: AdverseEventPatch) -> Self {
        db::adverse_events::Changes {
            term: r.term,
            grade: r.grade,
            serious: r.serious,
            onset_date: r.onset_date,
            outcome: r.outcome,
            notes: r.notes,
            updated_at: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEvents {
    pub items: Vec<AdverseEvent>,
}

/// Record a complication of a treatment.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment")),
    request_body = NewAdverseEvent,
    security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = AdverseEvent, headers(("Location" = String))))
)]
#[post("/v1/treatments/{id}/adverse-events")]
pub async fn create_adverse_event(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<NewAdverseEvent>,
) -> Result<HttpResponse, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let treatment_id = id.into_inner();
    let event = db::run(&pool, move |conn| {
        adverse_events::record(
            conn,
            caller.tenant,
            staff_id,
            TreatmentId::from(treatment_id),
            req.into(),
        )
    })
    .await?;
    let location = format!("/v1/treatments/{treatment_id}/adverse-events/{}", event.id);
    Ok(created(location, AdverseEvent::from(event)))
}

/// A treatment's complications, oldest first.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment")),
    security(("bearer" = [])),
    responses((status = 200, description = "The complications", body = AdverseEvents))
)]
#[get("/v1/treatments/{id}/adverse-events")]
pub async fn list_adverse_events(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<AdverseEvents>, ApiError> {
    let treatment_id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        visible(conn, caller, treatment_id)?;
        Ok::<_, ApiError>(db::adverse_events::of_treatment(
            conn,
            caller.tenant,
            TreatmentId::from(treatment_id),
        )?)
    })
    .await?;
    Ok(web::Json(AdverseEvents {
        items: rows.into_iter().map(AdverseEvent::from).collect(),
    }))
}

/// One complication.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment"), ("event_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The complication", body = AdverseEvent))
)]
#[get("/v1/treatments/{id}/adverse-events/{event_id}")]
pub async fn get_adverse_event(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<AdverseEvent>, ApiError> {
    let (treatment_id, id) = path.into_inner();
    let event = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::adverse_events::get(
            conn,
            caller.tenant,
            TreatmentId::from(treatment_id),
            AdverseEventId::from(id),
        )?)
    })
    .await?;
    Ok(web::Json(event.into()))
}

/// Update a complication: its course (`outcome`), grade, or notes as they become known.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment"), ("event_id" = Uuid, Path)),
    request_body = AdverseEventPatch,
    security(("bearer" = [])),
    responses((status = 200, description = "The updated complication", body = AdverseEvent))
)]
#[patch("/v1/treatments/{id}/adverse-events/{event_id}")]
pub async fn update_adverse_event(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Json(req): Json<AdverseEventPatch>,
) -> Result<web::Json<AdverseEvent>, ApiError> {
    let (treatment_id, id) = path.into_inner();
    let event = db::run(&pool, move |conn| {
        adverse_events::update(
            conn,
            caller.tenant,
            TreatmentId::from(treatment_id),
            AdverseEventId::from(id),
            req.into(),
        )
    })
    .await?;
    Ok(web::Json(event.into()))
}
