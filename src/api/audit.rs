//! The audit trail, for the clinic's admins: who read or changed which patient's data.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Page, PageParams};
use crate::db::audit::{Filter, Record};
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::audit::Action;
use crate::domain::ids::PatientId;
use crate::error::{ApiError, FieldError};
use crate::web::auth::Caller;

/// One request that read or changed patient data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b6f1f1e-3c1a-4f55-9d47-2f0a8c1e7b90",
    "at": "2026-11-21T09:14:03.120Z",
    "actor_id": "5d2c8a71-9e0b-4c3f-a6d4-1b7e9f2c3a58",
    "actor_role": "clinician",
    "action": "read",
    "resource_type": "patient",
    "resource_id": "c4a1e9d2-7b3f-4e6a-8d5c-2f1b0a9e8d7c",
    "patient_id": "c4a1e9d2-7b3f-4e6a-8d5c-2f1b0a9e8d7c",
    "request_id": "8f14e45f-ceea-467f-a8d5-7c1e2b9a0d33",
    "status": 200,
    "outcome": "success",
    "seq": 1842
}))]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The staff member, patient or system client (SMART Backend Services, `/v1/fhir-clients`)
    /// who asked.
    pub actor_id: Uuid,
    /// admin, clinician, patient or system (a system client, never recorded as an admin).
    pub actor_role: String,
    pub action: Action,
    /// patient, treatment, schedule, check_in, recovery, alert, adverse_event, outcome,
    /// enrollment_code or dashboard.
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    /// The patient whose data it was; none for lists across patients. A list filtered by a
    /// patient (`/v1/alerts?patient_id=`) names them even when it found nothing.
    pub patient_id: Option<Uuid>,
    /// The `X-Request-Id` of the request, to find it in the logs.
    pub request_id: String,
    /// The HTTP status the caller got.
    pub status: i16,
    /// success, denied (401/403), not_found, rejected (other 4xx) or failed (5xx).
    pub outcome: String,
    /// The record's place in the clinic's hash chain; null for a second or so until it is sealed.
    pub seq: Option<i64>,
}

impl From<Record> for AuditEvent {
    fn from(r: Record) -> Self {
        AuditEvent {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            patient_id: r.patient_id.map(Uuid::from),
            request_id: r.request_id,
            status: r.status,
            outcome: r.outcome,
            seq: r.seq,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Records of this patient's data.
    pub patient_id: Option<Uuid>,
    /// A staff member's, patient's or system client's id.
    pub actor_id: Option<Uuid>,
    /// Records of this action.
    pub action: Option<Action>,
    /// Records at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Records before this time.
    pub to: Option<DateTime<Utc>>,
}

/// The clinic's audit trail, newest first: every read and change of patient data, by whom, with the
/// request id and what the caller got. Records can't be changed or deleted, and each clinic's are
/// hash-chained (`aftercare admin verify-audit` checks the chain). Admins only.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery, PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of audit events", body = Page<AuditEvent>))
)]
#[get("/v1/audit-events")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    query: web::Query<AuditQuery>,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<AuditEvent>>, ApiError> {
    let page = params.request()?;
    let q = query.into_inner();
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::BadRequest(
            "the query parameters are not valid".into(),
            vec![FieldError::new("to", "must not be before from")],
        ));
    }
    let mut errors = vec![];
    let day = |at: Option<DateTime<Utc>>| at.map(|at| at.date_naive());
    super::extract::check_dates(&mut errors, [("from", day(q.from)), ("to", day(q.to))]);
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(
            "the query parameters are not valid".into(),
            errors,
        ));
    }
    let filter = Filter {
        patient_id: q.patient_id.map(PatientId::from),
        actor_id: q.actor_id,
        action: q.action.map(|a| a.as_str().to_string()),
        from: q.from,
        to: q.to,
    };
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::audit::page(conn, caller.tenant, &filter, page)?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |r| Cursor { at: r.at, id: r.id });
    Ok(web::Json(Page::new(rows, next, AuditEvent::from)))
}
