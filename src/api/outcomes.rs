//! Outcomes weeks later, rated by the clinician or by the patient; a protocol's outcomes summarized.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::Json;
use super::extract::created;
use super::treatments::visible;
use crate::db::{self, Pool};
use crate::domain::codes::Assessor;
use crate::domain::ids::{OutcomeId, ProtocolId, StaffId, TreatmentId};
use crate::domain::outcomes::OutcomeSummary;
use crate::error::ApiError;
use crate::services::outcomes::{self, By};
use crate::web::auth::{Caller, Role};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assessed_on": "2026-12-19", "gais": 2, "satisfaction": 8, "goodman_baron": 2}))]
pub struct NewOutcome {
    /// Between the treatment date and today.
    pub assessed_on: NaiveDate,
    /// Global Aesthetic Improvement Scale: -1 worse, 0 no change, 1 improved, 2 much, 3 very much improved.
    #[schema(minimum = -1, maximum = 3)]
    pub gais: i16,
    /// 0-10.
    #[schema(minimum = 0, maximum = 10)]
    pub satisfaction: i16,
    /// Goodman & Baron acne scar grade, 1 macular to 4 severe.
    #[schema(minimum = 1, maximum = 4)]
    pub goodman_baron: Option<i16>,
    /// Not blank, at most 2000 characters.
    #[schema(max_length = 2000, pattern = r"\S")]
    pub notes: Option<String>,
}

impl From<NewOutcome> for outcomes::NewOutcome {
    fn from(r: NewOutcome) -> Self {
        outcomes::NewOutcome {
            assessed_on: r.assessed_on,
            gais: r.gais,
            satisfaction: r.satisfaction,
            goodman_baron: r.goodman_baron,
            notes: r.notes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub id: Uuid,
    pub treatment_id: Uuid,
    pub patient_id: Uuid,
    pub assessed_on: NaiveDate,
    /// The clinician when staff record it, the patient when they do.
    pub assessor: Assessor,
    pub gais: i16,
    pub satisfaction: i16,
    pub goodman_baron: Option<i16>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<db::outcomes::Outcome> for Outcome {
    fn from(o: db::outcomes::Outcome) -> Self {
        Outcome {
            id: o.id.uuid(),
            treatment_id: o.treatment_id.uuid(),
            patient_id: o.patient_id.uuid(),
            assessed_on: o.assessed_on,
            assessor: o.assessor,
            gais: o.gais,
            satisfaction: o.satisfaction,
            goodman_baron: o.goodman_baron,
            notes: o.notes,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Outcomes {
    pub items: Vec<Outcome>,
}

/// Record an outcome. Staff record the clinician's assessment; a patient records their own.
///
/// There is one outcome per treatment, assessor and assessment date: another for the same date
/// replaces it (answered 200, and audited as an update). Statistics count each treatment's latest.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment")),
    request_body = NewOutcome,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Outcome, headers(("Location" = String))),
        (status = 200, description = "Replaced the caller's outcome for the same treatment, assessor and date", body = Outcome, headers(("Location" = String))),
    )
)]
#[post("/v1/treatments/{id}/outcomes")]
pub async fn create_outcome(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<NewOutcome>,
) -> Result<HttpResponse, ApiError> {
    let treatment_id = id.into_inner();
    let by = match caller.role {
        Role::Patient => By::Patient,
        _ => By::Clinician(StaffId::from(caller.id)),
    };
    let (outcome, is_new) = db::run(&pool, move |conn| {
        let t = visible(conn, caller, treatment_id)?;
        Ok::<_, ApiError>(outcomes::record(conn, caller.tenant, &t, by, req.into())?)
    })
    .await?;
    let location = format!("/v1/treatments/{treatment_id}/outcomes/{}", outcome.id);
    if is_new {
        return Ok(created(location, Outcome::from(outcome)));
    }
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(Outcome::from(outcome)))
}

/// One outcome. A patient may read their own.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment"), ("outcome_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The outcome", body = Outcome))
)]
#[get("/v1/treatments/{id}/outcomes/{outcome_id}")]
pub async fn get_outcome(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Outcome>, ApiError> {
    let (treatment_id, id) = path.into_inner();
    let outcome = db::run(&pool, move |conn| {
        visible(conn, caller, treatment_id)?;
        Ok::<_, ApiError>(db::outcomes::get(
            conn,
            caller.tenant,
            TreatmentId::from(treatment_id),
            OutcomeId::from(id),
        )?)
    })
    .await?;
    Ok(web::Json(outcome.into()))
}

/// A treatment's outcomes, by assessment date. A patient may read their own.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment")),
    security(("bearer" = [])),
    responses((status = 200, description = "The outcomes", body = Outcomes))
)]
#[get("/v1/treatments/{id}/outcomes")]
pub async fn list_outcomes(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Outcomes>, ApiError> {
    let treatment_id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        visible(conn, caller, treatment_id)?;
        Ok::<_, ApiError>(db::outcomes::of_treatment(
            conn,
            caller.tenant,
            TreatmentId::from(treatment_id),
        )?)
    })
    .await?;
    Ok(web::Json(Outcomes {
        items: rows.into_iter().map(Outcome::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessorOutcomes {
    pub assessor: Assessor,
    pub n: u32,
    /// How many rated each GAIS value, keys "-1" to "3".
    pub gais: BTreeMap<String, u32>,
    pub mean_satisfaction: Option<f64>,
    /// The share rated "improved" or better.
    pub improved_or_better: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOutcomes {
    pub session_number: i32,
    pub assessors: Vec<AssessorOutcomes>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolOutcomes {
    pub protocol_id: Uuid,
    pub sessions: Vec<SessionOutcomes>,
}

/// A protocol's outcomes per session number and assessor: the GAIS distribution, mean satisfaction,
/// and the share improved or better. Each treatment counts once per assessor, with its latest
/// assessment, so `n` counts treatments, not records.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The outcomes", body = ProtocolOutcomes))
)]
#[get("/v1/protocols/{id}/outcomes")]
pub async fn protocol_outcomes(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<ProtocolOutcomes>, ApiError> {
    let protocol_id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        db::protocols::get(conn, caller.tenant, ProtocolId::from(protocol_id))?;
        Ok::<_, ApiError>(db::outcomes::of_protocol(
            conn,
            caller.tenant,
            ProtocolId::from(protocol_id),
        )?)
    })
    .await?;
    Ok(web::Json(ProtocolOutcomes {
        protocol_id,
        sessions: per_session(rows),
    }))
}

/// Summarizes (session number, assessor, GAIS, satisfaction) rows per session number and assessor,
/// in that order.
fn per_session(rows: Vec<(i32, Assessor, i16, i16)>) -> Vec<SessionOutcomes> {
    let mut groups: BTreeMap<(i32, Assessor), OutcomeSummary> = BTreeMap::new();
    for (session, assessor, gais, satisfaction) in rows {
        groups
            .entry((session, assessor))
            .or_default()
            .add(gais, satisfaction);
    }
    let mut sessions: Vec<SessionOutcomes> = vec![];
    for ((session, assessor), s) in groups {
        let entry = AssessorOutcomes {
            assessor,
            n: s.n,
            gais: (-1..=3)
                .map(|g: i16| (g.to_string(), s.gais[(g + 1) as usize]))
                .collect(),
            mean_satisfaction: s.mean_satisfaction(),
            improved_or_better: s.improved_share(),
        };
        match sessions.last_mut() {
            Some(last) if last.session_number == session => last.assessors.push(entry),
            _ => sessions.push(SessionOutcomes {
                session_number: session,
                assessors: vec![entry],
            }),
        }
    }
    sessions
}
