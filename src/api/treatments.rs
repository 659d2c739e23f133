//! Treatment sessions, and the check-in schedule that follows each.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, Page, PageParams};
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::codes::{Area, Contraindication};
use crate::domain::ids::{PatientId, ProtocolId, StaffId, TreatmentId};
use crate::domain::photos::photo_asked;
use crate::domain::schedule::{ScheduledDay, day_of, local_date, schedule};
use crate::error::ApiError;
use crate::services::treatments;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "protocol_id": "0b7f8a52-3c4d-4e5f-8a9b-1c2d3e4f5a6b",
    "performed_at": "2026-11-20T14:00:00+01:00",
    "contraindications": {
        "active_acne": false, "skin_infection": false, "eczema_psoriasis": false, "keloid_history": false,
        "bleeding_disorder": false, "pregnancy": false, "skin_allergy": false, "diabetes": false
    },
    "notes": "Tolerated well."
}))]
pub struct NewTreatment {
    pub protocol_id: Uuid,
    /// When the session took place: in the past, and after 2000.
    pub performed_at: DateTime<Utc>,
    /// In millimetres, more than 0 and at most 3. Default: the protocol's.
    #[schema(exclusive_minimum = 0.0, maximum = 3.0)]
    pub needle_depth_mm: Option<f64>,
    /// Default: the protocol's.
    #[schema(min_items = 1)]
    pub areas: Option<Vec<Area>>,
    /// Which session of the series this is, 1-50. Default: one more than the patient's earlier
    /// sessions of this protocol.
    #[schema(minimum = 1, maximum = 50)]
    pub session_number: Option<i32>,
    #[schema(schema_with = screening_schema)]
    pub contraindications: BTreeMap<Contraindication, bool>,
    /// Required when any contraindication is answered `true`. Not blank, at most 2000 characters.
    #[schema(max_length = 2000, pattern = r"\S")]
    pub override_reason: Option<String>,
    /// Not blank, at most 10000 characters. The patient reads them too, in their own record (their
    /// right of access covers it): write what is meant only for colleagues elsewhere.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub notes: Option<String>,
}

/// The screening: an answer for every contraindication code, and no other key.
fn screening_schema() -> utoipa::openapi::Object {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The screening answer for every contraindication code (see domain.md).",
        ))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for code in Contraindication::ALL {
        object = object
            .property(
                code.as_str(),
                ObjectBuilder::new().schema_type(Type::Boolean),
            )
            .required(code.as_str());
    }
    object.build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Treatment {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    pub performed_at: DateTime<Utc>,
    pub needle_depth_mm: f64,
    pub areas: Vec<Area>,
    pub session_number: i32,
    pub contraindications: BTreeMap<Contraindication, bool>,
    pub override_reason: Option<String>,
    /// The clinician's notes; the patient sees them in their own record, as the clinic's staff do.
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<db::treatments::Treatment> for Treatment {
    fn from(t: db::treatments::Treatment) -> Self {
        Treatment {
            id: t.id.uuid(),
            patient_id: t.patient_id.uuid(),
            protocol_id: t.protocol_id.uuid(),
            performed_at: t.performed_at,
            needle_depth_mm: t.needle_depth_mm,
            areas: t.areas.into_iter().flatten().collect(),
            session_number: t.session_number,
            contraindications: serde_json::from_value(t.contraindications).unwrap_or_default(),
            override_reason: t.override_reason,
            notes: t.notes,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Schedule {
    pub treatment_id: Uuid,
    /// The protocol's name and aftercare instructions, which the patient reads here (the
    /// protocol itself is for staff).
    pub protocol_name: String,
    pub aftercare_instructions: String,
    /// The clinic's time zone, in which the days are counted.
    pub timezone: String,
    pub days: Vec<ScheduledDay>,
    /// The protocol's days since treatment on which the app asks for a photo (empty: none; a
    /// photo may be added to any check-in).
    pub photo_days: Vec<i32>,
    /// The clinic's date when this answer was made: `photo_asked_today` is of this date.
    pub today: NaiveDate,
    /// Whether the protocol asks for a photo on `today` (one of `photo_days` since treatment).
    pub photo_asked_today: bool,
}

impl From<NewTreatment> for treatments::NewTreatment {
    fn from(r: NewTreatment) -> Self {
        treatments::NewTreatment {
            protocol_id: ProtocolId::from(r.protocol_id),
            performed_at: r.performed_at,
            needle_depth_mm: r.needle_depth_mm,
            areas: r.areas,
            session_number: r.session_number,
            contraindications: r.contraindications,
            override_reason: r.override_reason,
            notes: r.notes,
        }
    }
}

/// A treatment the caller may see: any of the clinic's for staff, only their own for a patient.
pub fn visible(
    conn: &mut PgConnection,
    caller: Caller,
    id: Uuid,
) -> Result<db::treatments::Treatment, ApiError> {
    let treatment = db::treatments::get(conn, caller.tenant, TreatmentId::from(id))?;
    caller.may_see_patient(treatment.patient_id.uuid())?;
    Ok(treatment)
}

/// Record a treatment session.
///
/// A contraindication answered `true` needs an `override_reason`, or the treatment is refused (422).
#[utoipa::path(
    tag = "treatments",
    params(("id" = Uuid, Path, description = "The patient")),
    request_body = NewTreatment,
    security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = Treatment, headers(("Location" = String))))
)]
#[post("/v1/patients/{id}/treatments")]
pub async fn create(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<NewTreatment>,
) -> Result<HttpResponse, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let patient_id = PatientId::from(id.into_inner());
    let now = Utc::now();
    let new = treatments::NewTreatment::from(req);
    treatments::check(&new, now)?;
    let treatment = db::run(&pool, move |conn| {
        treatments::record(conn, caller.tenant, staff_id, patient_id, new, now)
    })
    .await?;
    Ok(created(
        format!("/v1/treatments/{}", treatment.id),
        Treatment::from(treatment),
    ))
}

/// A patient's treatments, newest first. A patient may list their own.
#[utoipa::path(
    tag = "treatments",
    params(("id" = Uuid, Path, description = "The patient"), PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of treatments", body = Page<Treatment>))
)]
#[get("/v1/patients/{id}/treatments")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<Treatment>>, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    let page = params.request()?;
    let rows = db::run(&pool, move |conn| {
        db::patients::get(conn, caller.tenant, PatientId::from(patient_id))?;
        Ok::<_, ApiError>(db::treatments::page_of_patient(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
            page,
        )?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |t| Cursor {
        at: t.performed_at,
        id: t.id.uuid(),
    });
    Ok(web::Json(Page::new(rows, next, Treatment::from)))
}

/// One treatment.
#[utoipa::path(
    tag = "treatments",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The treatment", body = Treatment))
)]
#[get("/v1/treatments/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Treatment>, ApiError> {
    let id = id.into_inner();
    let treatment = db::run(&pool, move |conn| visible(conn, caller, id)).await?;
    Ok(web::Json(treatment.into()))
}

/// The days a check-in is due after this treatment, and which were done.
///
/// Days are counted in the clinic's time zone from the treatment's date (day 0).
#[utoipa::path(
    tag = "treatments",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The schedule", body = Schedule))
)]
#[get("/v1/treatments/{id}/schedule")]
pub async fn get_schedule(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Schedule>, ApiError> {
    let id = id.into_inner();
    let (treatment, protocol, clinic, done) = db::run(&pool, move |conn| {
        let treatment = visible(conn, caller, id)?;
        let protocol = db::protocols::get(conn, caller.tenant, treatment.protocol_id)?;
        let clinic = db::clinics::get(conn, caller.tenant)?;
        let done = db::treatments::days_checked_in(conn, caller.tenant, TreatmentId::from(id))?;
        Ok::<_, ApiError>((treatment, protocol, clinic, done))
    })
    .await?;
    let tz = clinic.tz()?;
    let now = Utc::now();
    let due: Vec<i32> = protocol.check_in_days.into_iter().flatten().collect();
    let photo_days: Vec<i32> = protocol.photo_days.into_iter().flatten().collect();
    Ok(web::Json(Schedule {
        treatment_id: treatment.id.uuid(),
        protocol_name: protocol.name,
        aftercare_instructions: protocol.aftercare_instructions,
        timezone: clinic.timezone,
        days: schedule(treatment.performed_at, tz, &due, &done, now),
        today: local_date(now, tz),
        photo_asked_today: photo_asked(&photo_days, day_of(now, treatment.performed_at, tz)),
        photo_days,
    }))
}
