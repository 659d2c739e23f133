//! Daily check-ins from patients' phones: one at a time, or a batch when an app syncs after being
//! offline. Both are idempotent by the id the app chooses.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Json, Page, PageParams, parse};
use crate::auth::Caller;
use crate::db::check_ins::{CheckIn as CheckInRow, ScoreRow, Stored};
use crate::db::{self, Cursor, Pool, Tenant, into_page};
use crate::domain::alerts::{Level, Observation, Rule, WORSENING, evaluate, lowest_before};
use crate::domain::check_in::{MAX_NOTE_CHARS, check_recorded_at, truncate_to_micros};
use crate::domain::schedule::day_of;
use crate::domain::symptoms::{Item, SymptomKind, validate_scores};
use crate::domain::webhooks::{AlertData, CheckInData, Event};
use crate::domain::{Invalid, check_text};
use crate::error::{ApiError, Problem};
use crate::recovery::Store;
use crate::webhooks;

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

/// An alert a check-in raised, or added its evidence to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRef {
    pub id: Uuid,
    pub rule: Rule,
    pub level: Level,
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

fn receipt(stored: Stored, alerts: Vec<AlertRef>) -> CheckInReceipt {
    let urgent = alerts.iter().any(|a| a.level == Level::Urgent);
    CheckInReceipt {
        check_in: stored.into(),
        alerts,
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
            id: c.id,
            treatment_id: c.treatment_id,
            patient_id: c.patient_id,
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

/// What a retry must repeat exactly to count as the same check-in: everything the patient sent.
type Fingerprint = (
    Uuid,
    Uuid,
    DateTime<Utc>,
    [Option<bool>; 5],
    Option<String>,
    Vec<(String, i16)>,
);

fn fingerprint((c, scores): &Stored) -> Fingerprint {
    let mut values: Vec<(String, i16)> = scores
        .iter()
        .map(|s| (s.symptom_code.clone(), s.score))
        .collect();
    values.sort();
    let aftercare = [
        c.sunscreen,
        c.sun_exposure,
        c.makeup,
        c.exercise,
        c.hot_shower,
    ];
    (
        c.patient_id,
        c.treatment_id,
        c.recorded_at,
        aftercare,
        c.note.clone(),
        values,
    )
}

/// What storing one check-in came to.
enum Outcome {
    Created(Stored, Vec<AlertRef>),
    /// The same check-in was stored before; nothing new was stored.
    Replayed(Stored, Vec<AlertRef>),
}

/// What every check-in of one patient's request is checked against, loaded once.
struct Context {
    tenant: Tenant,
    patient_id: Uuid,
    tz: Tz,
    catalogue: Vec<Item>,
    now: DateTime<Utc>,
    treatments: HashMap<Uuid, Option<db::treatments::Treatment>>,
    store: Arc<Store>,
}

impl Context {
    fn load(
        conn: &mut PgConnection,
        store: Arc<Store>,
        tenant: Tenant,
        patient_id: Uuid,
    ) -> Result<Context, ApiError> {
        // The cohort that `slower_than_peers` compares with may lag by a second, not more.
        store.refresh_if_older(conn, std::time::Duration::from_secs(1))?;
        let clinic = db::clinics::get(conn, tenant)?;
        let catalogue = db::symptoms::catalogue(conn, tenant)?
            .into_iter()
            .filter_map(|s| {
                Some(Item {
                    kind: SymptomKind::parse(&s.kind)?,
                    code: s.code,
                })
            })
            .collect();
        Ok(Context {
            tenant,
            patient_id,
            tz: clinic.tz()?,
            catalogue,
            now: Utc::now(),
            treatments: HashMap::new(),
            store,
        })
    }

    /// The patient's own treatment with this id, if there is one.
    fn treatment(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
    ) -> Result<Option<db::treatments::Treatment>, ApiError> {
        if !self.treatments.contains_key(&id) {
            let t = db::treatments::get(conn, self.tenant, id)
                .map(Some)
                .or_else(|e| {
                    if e == diesel::result::Error::NotFound {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                })?
                .filter(|t| t.patient_id == self.patient_id);
            self.treatments.insert(id, t);
        }
        Ok(self.treatments[&id].clone())
    }

    fn store(&mut self, conn: &mut PgConnection, req: NewCheckIn) -> Result<Outcome, ApiError> {
        let mut invalid = Invalid::default();
        let Some(treatment) = self.treatment(conn, req.treatment_id)? else {
            return Err(ApiError::invalid(
                "treatment_id",
                "is not one of your treatments",
            ));
        };
        let recorded_at = truncate_to_micros(req.recorded_at);
        let scores = validate_scores(&mut invalid, "scores", &req.scores, &self.catalogue);
        check_recorded_at(&mut invalid, recorded_at, treatment.performed_at, self.now);
        check_text(&mut invalid, "note", req.note.as_deref(), MAX_NOTE_CHARS);
        invalid.into_result()?;

        let day = day_of(recorded_at, treatment.performed_at, self.tz);
        let a = req.aftercare;
        let row = CheckInRow {
            id: req.id,
            clinic_id: self.tenant.id(),
            patient_id: self.patient_id,
            treatment_id: treatment.id,
            recorded_at,
            day,
            sunscreen: a.sunscreen,
            sun_exposure: a.sun_exposure,
            makeup: a.makeup,
            exercise: a.exercise,
            hot_shower: a.hot_shower,
            note: req.note,
            received_at: truncate_to_micros(Utc::now()),
        };
        let score_rows: Vec<ScoreRow> = scores
            .iter()
            .map(|(code, score)| ScoreRow {
                check_in_id: row.id,
                symptom_code: code.clone(),
                score: score.value(),
                clinic_id: self.tenant.id(),
                treatment_id: treatment.id,
                protocol_id: treatment.protocol_id,
                day,
            })
            .collect();
        // The check-in and the alerts it raises are stored together, or not at all.
        let outcome = conn.transaction(|conn| {
            if db::check_ins::insert(conn, &row, &score_rows)? {
                let alerts = self.raise_alerts(conn, &row, &score_rows, treatment.protocol_id)?;
                webhooks::enqueue(
                    conn,
                    self.tenant,
                    &Event::CheckInCreated(CheckInData {
                        id: row.id,
                        patient_id: row.patient_id,
                        treatment_id: row.treatment_id,
                        day: row.day,
                        recorded_at: row.recorded_at,
                    }),
                )?;
                return Ok(Outcome::Created((row, score_rows), alerts));
            }
            // The id is taken: the same check-in sent again, or a different one under a used id.
            let conflict = || {
                ApiError::Conflict("a different check-in was already stored under this id".into())
            };
            let existing = db::check_ins::get(conn, self.tenant, req.id)?.ok_or_else(conflict)?;
            if fingerprint(&existing) != fingerprint(&(row, score_rows)) {
                return Err(conflict());
            }
            let alerts = db::alerts::of_check_in(conn, self.tenant, req.id)?
                .into_iter()
                .filter_map(|a| {
                    Some(AlertRef {
                        id: a.id,
                        rule: Rule::parse(&a.rule)?,
                        level: Level::parse(&a.level)?,
                    })
                })
                .collect();
            Ok(Outcome::Replayed(existing, alerts))
        })?;
        if let Outcome::Created(_, alerts) = &outcome {
            let metrics = &crate::metrics::METRICS;
            metrics.check_ins_stored.inc();
            for a in alerts {
                metrics
                    .alerts_raised
                    .with_label_values(&[a.level.as_str()])
                    .inc();
            }
        }
        Ok(outcome)
    }

    /// Runs the rules a check-in can trigger, and raises (or adds evidence to) their alerts.
    fn raise_alerts(
        &self,
        conn: &mut PgConnection,
        row: &CheckInRow,
        scores: &[ScoreRow],
        protocol_id: Uuid,
    ) -> Result<Vec<AlertRef>, ApiError> {
        let daily = db::check_ins::daily_worst_before(
            conn,
            self.tenant,
            row.treatment_id,
            row.day,
            &WORSENING,
        )?;
        let lowest = lowest_before(row.day, daily);
        let kinds: Vec<(String, SymptomKind, i16)> = scores
            .iter()
            .filter_map(|s| {
                let item = self.catalogue.iter().find(|i| i.code == s.symptom_code)?;
                Some((s.symptom_code.clone(), item.kind, s.score))
            })
            .collect();
        let codes: Vec<String> = kinds.iter().map(|(c, _, _)| c.clone()).collect();
        let usual = self.store.usual_resolution_days(protocol_id, &codes);
        let usual_resolution_day =
            |code: &str| codes.iter().position(|c| c == code).and_then(|i| usual[i]);
        let observation = Observation {
            day: row.day,
            scores: &kinds,
            lowest_before: &lowest,
            usual_resolution_day: &usual_resolution_day,
        };
        let mut raised = vec![];
        for (rule, evidence) in evaluate(&observation) {
            let level = rule.level();
            let raised_now = db::alerts::raise(
                conn,
                self.tenant,
                &db::alerts::Raise {
                    patient_id: row.patient_id,
                    treatment_id: row.treatment_id,
                    rule: rule.as_str(),
                    level: level.as_str(),
                    level_rank: level.rank(),
                    day: row.day,
                    check_in_id: Some(row.id),
                    detail: serde_json::to_value(&evidence).map_err(ApiError::internal)?,
                },
                rule.once_per_treatment(),
            )?;
            let Some((id, new)) = raised_now else {
                continue;
            };
            if new {
                let alert = AlertData {
                    id,
                    rule,
                    level,
                    patient_id: row.patient_id,
                    treatment_id: row.treatment_id,
                    day: row.day,
                };
                webhooks::enqueue(conn, self.tenant, &Event::AlertRaised(alert))?;
            }
            raised.push(AlertRef { id, rule, level });
        }
        Ok(raised)
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
    store: web::Data<Store>,
    caller: Caller,
    Json(req): Json<NewCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let patient_id = caller.patient()?;
    let store = store.into_inner();
    let outcome = db::run(&pool, move |conn| {
        Context::load(conn, store, caller.tenant, patient_id)?.store(conn, req)
    })
    .await?;
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
    /// 1 to 100 check-ins, each a `NewCheckIn`. Each is checked, and stored or refused, on its own:
    /// an item of another shape is refused in its result (422) without failing the others, so any
    /// item is accepted here.
    #[schema(min_items = 1, max_items = 100)]
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
    store: web::Data<Store>,
    caller: Caller,
    Json(batch): Json<CheckInBatch, BATCH_LIMIT_BYTES>,
) -> Result<web::Json<BatchResult>, ApiError> {
    let patient_id = caller.patient()?;
    if batch.check_ins.is_empty() || batch.check_ins.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "check_ins",
            "must hold 1 to 100 check-ins",
        ));
    }
    let store = store.into_inner();
    let results = db::run(&pool, move |conn| {
        let mut ctx = Context::load(conn, store, caller.tenant, patient_id)?;
        let results = batch
            .check_ins
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let id = item
                    .get("id")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok());
                let outcome = serde_json::to_vec(&item)
                    .map_err(ApiError::internal)
                    .and_then(|bytes| parse::<NewCheckIn>(&bytes))
                    .and_then(|req| ctx.store(conn, req));
                let (status, check_in, problem) = match outcome {
                    Ok(Outcome::Created(s, a)) => (StatusCode::CREATED, Some(receipt(s, a)), None),
                    Ok(Outcome::Replayed(s, a)) => (StatusCode::OK, Some(receipt(s, a)), None),
                    // A database that fails fails the batch: the app retries it whole.
                    Err(
                        e @ (ApiError::Unavailable(_) | ApiError::TimedOut | ApiError::Internal(_)),
                    ) => {
                        return Err(e);
                    }
                    Err(e) => (
                        actix_web::ResponseError::status_code(&e),
                        None,
                        Some(e.problem()),
                    ),
                };
                Ok(BatchItemResult {
                    index,
                    id,
                    status: status.as_u16(),
                    check_in,
                    problem,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(results)
    })
    .await?;
    Ok(web::Json(BatchResult { results }))
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
        db::check_ins::get(conn, caller.tenant, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    caller.may_see_patient(stored.0.patient_id)?;
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
        db::patients::get(conn, caller.tenant, patient_id)?;
        Ok(db::check_ins::page_of_patient(
            conn,
            caller.tenant,
            patient_id,
            treatment_id,
            page,
        )?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |(c, _)| Cursor {
        at: c.recorded_at,
        id: c.id,
    });
    Ok(web::Json(Page::new(rows, next, CheckIn::from)))
}
