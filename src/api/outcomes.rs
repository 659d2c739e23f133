//! Complications (adverse events) recorded by clinicians, and outcomes weeks later, rated by the
//! clinician or by the patient; a protocol's outcomes summarized.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, double_option};
use super::treatments::visible;
use crate::auth::{Caller, Role};
use crate::db::{self, Pool};
use crate::domain::codes::{AdverseOutcome, Assessor};
use crate::domain::outcomes::{OutcomeSummary, check_adverse_event, check_outcome};
use crate::domain::schedule::local_date;
use crate::domain::webhooks::{AdverseEventData, Event};
use crate::domain::{Invalid, check_text};
use crate::error::ApiError;

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
            id: e.id,
            treatment_id: e.treatment_id,
            patient_id: e.patient_id,
            term: e.term,
            grade: e.grade,
            serious: e.serious,
            onset_date: e.onset_date,
            outcome: AdverseOutcome::parse(&e.outcome).unwrap_or(AdverseOutcome::Unknown),
            notes: e.notes,
            recorded_by: e.recorded_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEvents {
    pub items: Vec<AdverseEvent>,
}

/// The treatment's date and today, in the clinic's time zone.
fn dates(
    conn: &mut diesel::PgConnection,
    caller: Caller,
    t: &db::treatments::Treatment,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let tz = db::clinics::get(conn, caller.tenant)?.tz()?;
    Ok((local_date(t.performed_at, tz), local_date(Utc::now(), tz)))
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
    let staff_id = caller.staff()?;
    let treatment_id = id.into_inner();
    let event = db::run(&pool, move |conn| {
        let t = visible(conn, caller, treatment_id)?;
        let (treated_on, today) = dates(conn, caller, &t)?;
        let mut invalid = Invalid::default();
        check_adverse_event(
            &mut invalid,
            Some(&req.term),
            Some(req.grade),
            Some(req.onset_date),
            treated_on,
            today,
        );
        check_text(&mut invalid, "notes", req.notes.as_deref(), 10_000);
        invalid.into_result()?;
        let now = Utc::now();
        let row = db::adverse_events::AdverseEvent {
            id: Uuid::new_v4(),
            clinic_id: caller.tenant.id(),
            patient_id: t.patient_id,
            treatment_id,
            term: req.term.trim().to_string(),
            grade: req.grade,
            serious: req.serious,
            onset_date: req.onset_date,
            outcome: req.outcome.as_str().into(),
            notes: req.notes,
            recorded_by: staff_id,
            created_at: now,
            updated_at: now,
        };
        conn.transaction(|conn| {
            let event = db::adverse_events::insert(conn, &row)?;
            let data = AdverseEventData {
                id: event.id,
                patient_id: event.patient_id,
                treatment_id: event.treatment_id,
                grade: event.grade,
                serious: event.serious,
            };
            db::webhooks::enqueue(conn, caller.tenant, &Event::AdverseEventRecorded(data))?;
            Ok(event)
        })
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
    caller.staff()?;
    let treatment_id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        visible(conn, caller, treatment_id)?;
        Ok(db::adverse_events::of_treatment(
            conn,
            caller.tenant,
            treatment_id,
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
    caller.staff()?;
    let (treatment_id, id) = path.into_inner();
    let event = db::run(&pool, move |conn| {
        Ok(db::adverse_events::get(
            conn,
            caller.tenant,
            treatment_id,
            id,
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
    caller.staff()?;
    let (treatment_id, id) = path.into_inner();
    let event = db::run(&pool, move |conn| {
        let t = visible(conn, caller, treatment_id)?;
        db::adverse_events::get(conn, caller.tenant, treatment_id, id)?;
        let (treated_on, today) = dates(conn, caller, &t)?;
        let mut invalid = Invalid::default();
        check_adverse_event(
            &mut invalid,
            req.term.as_deref(),
            req.grade,
            req.onset_date,
            treated_on,
            today,
        );
        check_text(
            &mut invalid,
            "notes",
            req.notes.as_ref().and_then(|n| n.as_deref()),
            10_000,
        );
        invalid.into_result()?;
        let changes = db::adverse_events::Changes {
            term: req.term.map(|t| t.trim().to_string()),
            grade: req.grade,
            serious: req.serious,
            onset_date: req.onset_date,
            outcome: req.outcome.map(|o| o.as_str().to_string()),
            notes: req.notes,
            updated_at: Some(Utc::now()),
        };
        Ok(db::adverse_events::update(
            conn,
            caller.tenant,
            treatment_id,
            id,
            &changes,
        )?)
    })
    .await?;
    Ok(web::Json(event.into()))
}

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
            id: o.id,
            treatment_id: o.treatment_id,
            patient_id: o.patient_id,
            assessed_on: o.assessed_on,
            assessor: Assessor::parse(&o.assessor).unwrap_or(Assessor::Clinician),
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
#[utoipa::path(
    tag = "outcomes",
    params(("id" = Uuid, Path, description = "The treatment")),
    request_body = NewOutcome,
    security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = Outcome, headers(("Location" = String))))
)]
#[post("/v1/treatments/{id}/outcomes")]
pub async fn create_outcome(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<NewOutcome>,
) -> Result<HttpResponse, ApiError> {
    let treatment_id = id.into_inner();
    let outcome = db::run(&pool, move |conn| {
        let t = visible(conn, caller, treatment_id)?;
        let (treated_on, today) = dates(conn, caller, &t)?;
        let mut invalid = Invalid::default();
        check_outcome(
            &mut invalid,
            req.gais,
            req.satisfaction,
            req.goodman_baron,
            req.assessed_on,
            treated_on,
            today,
        );
        check_text(&mut invalid, "notes", req.notes.as_deref(), 2000);
        invalid.into_result()?;
        let is_patient = caller.role == Role::Patient;
        let assessor = if is_patient {
            Assessor::Patient
        } else {
            Assessor::Clinician
        };
        Ok(db::outcomes::insert(
            conn,
            &db::outcomes::Outcome {
                id: Uuid::new_v4(),
                clinic_id: caller.tenant.id(),
                patient_id: t.patient_id,
                treatment_id,
                assessed_on: req.assessed_on,
                assessor: assessor.as_str().into(),
                gais: req.gais,
                satisfaction: req.satisfaction,
                goodman_baron: req.goodman_baron,
                notes: req.notes,
                recorded_by_staff: (!is_patient).then_some(caller.id),
                created_at: Utc::now(),
            },
        )?)
    })
    .await?;
    let location = format!("/v1/treatments/{treatment_id}/outcomes/{}", outcome.id);
    Ok(created(location, Outcome::from(outcome)))
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
        Ok(db::outcomes::get(conn, caller.tenant, treatment_id, id)?)
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
        Ok(db::outcomes::of_treatment(
            conn,
            caller.tenant,
            treatment_id,
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
/// and the share improved or better.
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
    caller.staff()?;
    let protocol_id = id.into_inner();
    let rows = db::run(&pool, move |conn| {
        db::protocols::get(conn, caller.tenant, protocol_id)?;
        Ok(db::outcomes::of_protocol(conn, caller.tenant, protocol_id)?)
    })
    .await?;
    let mut groups: BTreeMap<(i32, String), OutcomeSummary> = BTreeMap::new();
    for (session, assessor, gais, satisfaction) in rows {
        groups
            .entry((session, assessor))
            .or_default()
            .add(gais, satisfaction);
    }
    let mut sessions: Vec<SessionOutcomes> = vec![];
    for ((session, assessor), s) in groups {
        let entry = AssessorOutcomes {
            assessor: Assessor::parse(&assessor).unwrap_or(Assessor::Clinician),
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
    Ok(web::Json(ProtocolOutcomes {
        protocol_id,
        sessions,
    }))
}
