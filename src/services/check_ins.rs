//! Storing a check-in: checked against the patient's treatment and the clinic's catalogue, stored
//! with its scores, the alerts its answers raise and its webhook event in one transaction, and
//! idempotent by the id the app chose. The single and batch endpoints both come here.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::alerts::{self, AlertRef};
use crate::db::check_ins::{CheckIn as CheckInRow, ScoreRow, Stored};
use crate::db::{self, Tenant};
use crate::domain::alerts::{Level, Observation, Rule, WORSENING, evaluate, lowest_before};
use crate::domain::check_in::{MAX_NOTE_CHARS, check_recorded_at, truncate_to_micros};
use crate::domain::schedule::day_of;
use crate::domain::symptoms::{Item, SymptomKind, validate_scores};
use crate::domain::webhooks::{CheckInData, Event};
use crate::domain::{Invalid, check_text};
use crate::error::ApiError;
use crate::read_model::Store;

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

/// Stores one check-in of `patient_id`'s.
pub fn record(
    conn: &mut PgConnection,
    store: Arc<Store>,
    tenant: Tenant,
    patient_id: Uuid,
    req: NewCheckIn,
) -> Result<Outcome, ApiError> {
    Context::load(conn, store, tenant, patient_id)?.store(conn, req)
}

/// Stores a batch's check-ins in order, each on its own: an item that is not valid (parsed into an
/// error already, or refused here) gets its error without failing the others. A database that
/// fails fails the batch, which the app retries whole.
pub fn record_batch(
    conn: &mut PgConnection,
    store: Arc<Store>,
    tenant: Tenant,
    patient_id: Uuid,
    items: Vec<Result<NewCheckIn, ApiError>>,
) -> Result<Vec<Result<Outcome, ApiError>>, ApiError> {
    let mut ctx = Context::load(conn, store, tenant, patient_id)?;
    items
        .into_iter()
        .map(|item| match item.and_then(|req| ctx.store(conn, req)) {
            Err(e @ (ApiError::Unavailable(_) | ApiError::TimedOut | ApiError::Internal(_))) => {
                Err(e)
            }
            outcome => Ok(outcome),
        })
        .collect()
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
pub enum Outcome {
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
                treatment_id: treatment.id,
                protocol_id: treatment.protocol_id,
                day,
            })
            .collect();
        // The check-in and the alerts it raises are stored together, or not at all.
        let outcome = conn.transaction(|conn| {
            if db::check_ins::insert(conn, self.tenant, &row, &score_rows)? {
                let alerts = self.raise_alerts(conn, &row, &score_rows, treatment.protocol_id)?;
                db::webhooks::enqueue(
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
        if let Outcome::Created(..) = &outcome {
            crate::metrics::METRICS.check_ins_stored.inc();
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
            let on = alerts::Occasion {
                patient_id: row.patient_id,
                treatment_id: row.treatment_id,
                day: row.day,
                check_in_id: Some(row.id),
                detail: serde_json::to_value(&evidence).map_err(ApiError::internal)?,
            };
            raised.extend(alerts::raise(conn, self.tenant, rule, on)?);
        }
        Ok(raised)
    }
}
