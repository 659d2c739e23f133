//! A patient's rights over their data: an export of everything held about them (GDPR Art. 15 and
//! 20, HIPAA's right of access), erasure on an admin's request (Art. 17), and un-enrolling a lost
//! phone.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use crate::db::{self, Pool};
use crate::domain::ids::{PatientId, StaffId};
use crate::error::ApiError;
use crate::services::patient_data;
use crate::services::photo_store::{self, PhotoStore};
use crate::web::auth::Caller;
use crate::web::auth::sessions::LiveSessions;

/// Everything the clinic holds about one patient, as stored (secrets such as token hashes left
/// out). Ids of staff name who recorded what.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientExport {
    pub exported_at: DateTime<Utc>,
    /// The patient record.
    #[schema(value_type = Object)]
    pub patient: Value,
    #[schema(value_type = Vec<Object>)]
    pub treatments: Value,
    /// Each check-in with its `scores`, by symptom code.
    #[schema(value_type = Vec<Object>)]
    pub check_ins: Value,
    /// Each photo's record (size, consents, review flag); its JPEG is read at its `url`.
    #[schema(value_type = Vec<Object>)]
    pub photos: Value,
    /// Each alert with its `evidence`.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Value,
    #[schema(value_type = Vec<Object>)]
    pub adverse_events: Value,
    #[schema(value_type = Vec<Object>)]
    pub outcomes: Value,
    /// When codes were issued and used; never the codes.
    #[schema(value_type = Vec<Object>)]
    pub enrollment_codes: Value,
    /// The phone's sessions: started, last used, expiry, client, revoked; never a token.
    #[schema(value_type = Vec<Object>)]
    pub sessions: Value,
    /// The phones subscribed to reminders: endpoint, language, when; never the keys.
    #[schema(value_type = Vec<Object>)]
    pub push_subscriptions: Value,
    /// The check-in reminders sent: treatment, day, when.
    #[schema(value_type = Vec<Object>)]
    pub reminders: Value,
    /// The audit trail's records about the patient: who read or changed what, when.
    #[schema(value_type = Vec<Object>)]
    pub audit_events: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Patient's written request of 2026-11-28 (GDPR Art. 17)"}))]
pub struct ErasureRequest {
    /// Why the data is erased, kept with the erasure's record: 1-500 characters, no health data.
    #[schema(max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// The record of an erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erasure {
    pub patient_id: Uuid,
    pub reason: String,
    pub erased_by: Uuid,
    pub erased_at: DateTime<Utc>,
}

/// Un-enroll the patient's phones: their sessions end at once, the next refresh fails, and no
/// more reminders are pushed to them.
///
/// For a lost phone. The patient enrolls again with a new code.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Every phone of the patient is signed out"))
)]
#[post("/v1/patients/{id}/unenroll")]
pub async fn unenroll(
    pool: web::Data<Pool>,
    sessions: web::Data<LiveSessions>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    db::run(&pool, move |conn| {
        patient_data::unenroll(conn, caller.tenant, PatientId::from(patient_id))
    })
    .await?;
    sessions.forget_all();
    Ok(HttpResponse::NoContent().finish())
}

/// Everything held about the patient, as JSON: for the clinic's staff, and for the patient
/// themself (GDPR Art. 15 and 20; HIPAA's right of access).
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The patient's data", body = PatientExport))
)]
#[get("/v1/patients/{id}/export")]
pub async fn export(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PatientExport>, ApiError> {
    let patient_id = id.into_inner();
    caller.may_see_patient(patient_id)?;
    let mut data = db::run(&pool, move |conn| {
        db::patients::get(conn, caller.tenant, PatientId::from(patient_id))?;
        Ok::<_, ApiError>(db::patient_data::export(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
        )?)
    })
    .await?;
    let mut take = |key: &str| data.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    Ok(web::Json(PatientExport {
        exported_at: Utc::now(),
        patient: take("patient"),
        treatments: take("treatments"),
        check_ins: take("check_ins"),
        photos: take("photos"),
        alerts: take("alerts"),
        adverse_events: take("adverse_events"),
        outcomes: take("outcomes"),
        enrollment_codes: take("enrollment_codes"),
        sessions: take("sessions"),
        push_subscriptions: take("push_subscriptions"),
        reminders: take("reminders"),
        audit_events: take("audit_events"),
    }))
}

/// Erase the patient's personal and health data, on their request (GDPR Art. 17).
///
/// Removed: the patient record, treatments, check-ins and scores, photos (from the photo store
/// too), alerts and their evidence,
/// adverse events, outcomes, enrollment codes, sessions, push subscriptions, reminders, and webhook
/// events naming the patient, and the FHIR Bulk Data exports holding the patient (their status
/// answers 410; a running one stops).
/// Kept: the audit trail's records (ids only, no health data) and this erasure's record with its
/// reason. The recovery figures stop counting the patient. This can't be undone.
#[utoipa::path(
    tag = "patients",
    params(("id" = Uuid, Path)),
    request_body = ErasureRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "Erased", body = Erasure))
)]
#[post("/v1/patients/{id}/erasure")]
pub async fn erase(
    pool: web::Data<Pool>,
    sessions: web::Data<LiveSessions>,
    photos: web::Data<PhotoStore>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<ErasureRequest>,
) -> Result<web::Json<Erasure>, ApiError> {
    let admin = StaffId::from(caller.id);
    let patient_id = id.into_inner();
    let erased = db::run(&pool, move |conn| {
        patient_data::erase(
            conn,
            caller.tenant,
            PatientId::from(patient_id),
            &req.reason,
            admin,
        )
    })
    .await?;
    sessions.forget_all();
    // After the rows, so that a refused erasure leaves every photo readable; by the patient's
    // prefix, so that an object whose row was never written goes too.
    photos
        .delete_all(&photo_store::patient_prefix(
            caller.tenant,
            PatientId::from(patient_id),
        ))
        .await?;
    Ok(web::Json(Erasure {
        patient_id,
        reason: erased.reason,
        erased_by: admin.uuid(),
        erased_at: erased.at,
    }))
}
