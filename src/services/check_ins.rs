//! Storing check-ins: each checked against the patient's treatment and the clinic's catalogue, and
//! stored with its scores, the alerts its answers raise, its webhook event and the request's audit
//! record in one transaction, idempotent by the id the app chose. A batch is one transaction too,
//! with one statement for all its check-ins and one for all their scores; each item still gets its
//! own outcome and its own alerts. The single and batch endpoints both come here.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::Error;
use super::alerts::{self, AlertRef};
use crate::db::audit::Event as AuditEvent;
use crate::db::check_ins::{CheckIn as CheckInRow, ScoreRow, Stored};
use crate::db::{self, Tenant};
use crate::domain::alerts::{
    Observation, Rule, WORSENING, evaluate, lowest_before, needs_earlier_days,
};
use crate::domain::check_in::{MAX_NOTE_CHARS, check_recorded_at, truncate_to_micros};
use crate::domain::ids::{CheckInId, ClinicId, PatientId, ProtocolId, TreatmentId};
use crate::domain::schedule::day_of;
use crate::domain::symptoms::{Item, SymptomKind, validate_scores};
use crate::domain::webhooks::{CheckInData, Event};
use crate::domain::{Invalid, check_text};
use crate::read_model::Store;

/// Answers to the aftercare questions; each may be left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AftercareAnswers {
    pub sunscreen: Option<bool>,
    pub sun_exposure: Option<bool>,
    pub makeup: Option<bool>,
    pub exercise: Option<bool>,
    pub hot_shower: Option<bool>,
}

/// A check-in as the patient's app sent it, not yet checked.
#[derive(Debug, Clone)]
pub struct NewCheckIn {
    /// Chosen by the app: the same id again stores nothing new.
    pub id: Uuid,
    pub treatment_id: TreatmentId,
    pub recorded_at: DateTime<Utc>,
    /// Symptom code to score, in any range: checked against the clinic's catalogue here.
    pub scores: BTreeMap<String, i64>,
    pub aftercare: AftercareAnswers,
    pub note: Option<String>,
}

/// What the check-in path keeps between requests: the read model (for the cohort the alert rules
/// compare with) and the clinics' time zones and catalogues.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<Store>,
    pub clinics: Arc<Clinics>,
}

/// Stores one check-in of `patient_id`'s. `audit`, the request's audit record, is written in the
/// same transaction when the check-in is stored or was stored before; when it is refused, nothing
/// is written, and the record is left to the audit middleware.
pub fn record(
    conn: &mut PgConnection,
    deps: &Deps,
    tenant: Tenant,
    patient_id: PatientId,
    req: NewCheckIn,
    audit: Option<AuditEvent>,
) -> Result<Outcome, Error> {
    let audit = |outcomes: &[Result<Outcome, Error>]| {
        let (status, stored) = match outcomes {
            [Ok(Outcome::Created(stored, _))] => (201, stored),
            [Ok(Outcome::Replayed(stored, _))] => (200, stored),
            _ => return None,
        };
        let resource_id = Some(stored.0.id);
        audit.map(|a| {
            AuditEvent {
                resource_id: resource_id.map(Uuid::from),
                ..a
            }
            .answered(status)
        })
    };
    let mut outcomes = record_all(conn, deps, tenant, patient_id, vec![req], audit)?;
    outcomes.pop().unwrap_or(Err(Error::NotFound))
}

/// Stores a batch's check-ins, each with its own outcome: an item refused here gets its error
/// without failing the others. A database that
/// fails fails the batch, which the app retries whole. `audit` is written in the same transaction.
pub fn record_batch(
    conn: &mut PgConnection,
    deps: &Deps,
    tenant: Tenant,
    patient_id: PatientId,
    items: Vec<NewCheckIn>,
    audit: Option<AuditEvent>,
) -> Result<Vec<Result<Outcome, Error>>, Error> {
    let audit = |_: &[Result<Outcome, Error>]| audit.map(|a| a.answered(200));
    record_all(conn, deps, tenant, patient_id, items, audit)
}

/// A clinic's time zone and symptom catalogue, as a check-in needs them.
#[derive(Debug)]
pub struct ClinicFacts {
    tz: Tz,
    catalogue: Vec<Item>,
}

/// The clinics' facts, read once. Exact without hearing of changes: a clinic's time zone never
/// changes, and its catalogue only grows (items are added, never changed or removed), so a code
/// the cached catalogue lacks is looked up again before it is refused.
#[derive(Debug, Default)]
pub struct Clinics(Mutex<HashMap<ClinicId, Arc<ClinicFacts>>>);

impl Clinics {
    fn get<'a>(
        &self,
        conn: &mut PgConnection,
        tenant: Tenant,
        mut codes: impl Iterator<Item = &'a String>,
    ) -> Result<Arc<ClinicFacts>, Error> {
        let cached = self.lock().get(&tenant.id()).cloned();
        if let Some(facts) = cached
            && codes.all(|c| facts.catalogue.iter().any(|i| &i.code == c))
        {
            return Ok(facts);
        }
        let catalogue = db::symptoms::catalogue(conn, tenant)?
            .into_iter()
            .map(|s| Item {
                kind: s.kind,
                code: s.code,
            })
            .collect();
        let facts = Arc::new(ClinicFacts {
            tz: db::clinics::get(conn, tenant)?.tz()?,
            catalogue,
        });
        self.lock().insert(tenant.id(), facts.clone());
        Ok(facts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClinicId, Arc<ClinicFacts>>> {
        // The map holds no invariant that a panic elsewhere could have broken.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        c.patient_id.uuid(),
        c.treatment_id.uuid(),
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

type Outcomes = Vec<Result<Outcome, Error>>;

fn record_all(
    conn: &mut PgConnection,
    deps: &Deps,
    tenant: Tenant,
    patient_id: PatientId,
    items: Vec<NewCheckIn>,
    audit: impl FnOnce(&[Result<Outcome, Error>]) -> Option<AuditEvent>,
) -> Result<Outcomes, Error> {
    // The cohort that `slower_than_peers` compares with may lag by a second, not more.
    deps.store
        .refresh_if_older(conn, std::time::Duration::from_secs(1))?;
    let codes = items.iter().flat_map(|r| r.scores.keys());
    let clinic = deps.clinics.get(conn, tenant, codes)?;
    let treatment_ids: Vec<TreatmentId> = items.iter().map(|r| r.treatment_id).collect();
    let treatments: HashMap<TreatmentId, db::treatments::Treatment> =
        db::treatments::of_patient(conn, tenant, patient_id, &treatment_ids)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    let now = Utc::now();
    let prepared = items
        .into_iter()
        .map(|item| prepare(item, &treatments, &clinic, now))
        .collect();
    let ctx = Context {
        tenant,
        clinic: &clinic,
        store: &deps.store,
    };
    let outcomes = conn.transaction(|conn| {
        let outcomes = ctx.store_all(conn, prepared)?;
        if let Some(event) = audit(&outcomes) {
            db::audit::insert(conn, tenant, &event)?;
        }
        Ok::<_, Error>(outcomes)
    })?;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Outcome::Created(..))))
        .count();
    crate::web::metrics::METRICS
        .check_ins_stored
        .inc_by(created as u64);
    Ok(outcomes)
}

/// A valid check-in, ready to store.
struct Prepared {
    row: CheckInRow,
    scores: Vec<ScoreRow>,
    protocol_id: ProtocolId,
}

/// Checks a check-in against the patient's treatments and the clinic's catalogue.
fn prepare(
    req: NewCheckIn,
    treatments: &HashMap<TreatmentId, db::treatments::Treatment>,
    clinic: &ClinicFacts,
    now: DateTime<Utc>,
) -> Result<Prepared, Error> {
    let Some(treatment) = treatments.get(&req.treatment_id) else {
        return Err(Error::invalid(
            "treatment_id",
            "is not one of your treatments",
        ));
    };
    let mut invalid = Invalid::default();
    let recorded_at = truncate_to_micros(req.recorded_at);
    let scores = validate_scores(&mut invalid, "scores", &req.scores, &clinic.catalogue);
    check_recorded_at(&mut invalid, recorded_at, treatment.performed_at, now);
    check_text(&mut invalid, "note", req.note.as_deref(), MAX_NOTE_CHARS);
    invalid.into_result()?;

    let day = day_of(recorded_at, treatment.performed_at, clinic.tz);
    let a = req.aftercare;
    let row = CheckInRow {
        id: CheckInId::from(req.id),
        patient_id: treatment.patient_id,
        treatment_id: treatment.id,
        recorded_at,
        day,
        sunscreen: a.sunscreen,
        sun_exposure: a.sun_exposure,
        makeup: a.makeup,
        exercise: a.exercise,
        hot_shower: a.hot_shower,
        note: req.note,
        received_at: truncate_to_micros(now),
    };
    let scores = scores
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
    Ok(Prepared {
        row,
        scores,
        protocol_id: treatment.protocol_id,
    })
}

/// What the check-ins of one request are stored with.
struct Context<'a> {
    tenant: Tenant,
    clinic: &'a ClinicFacts,
    store: &'a Store,
}

impl Context<'_> {
    /// Stores the valid check-ins whose ids are free (all in one statement, their scores in
    /// another), raises their alerts, and queues their webhook events; an id stored before is a
    /// replay if the content is the same, else a conflict. In the caller's transaction.
    fn store_all(
        &self,
        conn: &mut PgConnection,
        prepared: Vec<Result<Prepared, Error>>,
    ) -> Result<Outcomes, Error> {
        let rows: Vec<CheckInRow> = prepared.iter().flatten().map(|p| p.row.clone()).collect();
        let mut new: HashSet<CheckInId> = match rows.is_empty() {
            true => HashSet::new(),
            false => db::check_ins::insert_new(conn, self.tenant, &rows)?
                .into_iter()
                .collect(),
        };
        // An id twice in one batch is stored once: its first item stores it.
        let mut first = HashSet::new();
        let scores: Vec<ScoreRow> = prepared
            .iter()
            .flatten()
            .filter(|p| new.contains(&p.row.id) && first.insert(p.row.id))
            .flat_map(|p| p.scores.iter().cloned())
            .collect();
        if !scores.is_empty() {
            db::check_ins::insert_scores(conn, self.tenant, &scores)?;
        }
        let (mut outcomes, mut events, mut daily) = (vec![], vec![], HashMap::new());
        // The rules each new check-in triggers, by its place in `outcomes`: raised all at once.
        let mut raises = vec![];
        for p in prepared {
            outcomes.push(match p {
                Err(e) => Err(e),
                Ok(p) if new.remove(&p.row.id) => {
                    for raise in self.rules(conn, &p, &mut daily)? {
                        raises.push((outcomes.len(), raise));
                    }
                    events.push(Event::CheckInCreated(CheckInData {
                        id: p.row.id.uuid(),
                        patient_id: p.row.patient_id.uuid(),
                        treatment_id: p.row.treatment_id.uuid(),
                        day: p.row.day,
                        recorded_at: p.row.recorded_at,
                    }));
                    Ok(Outcome::Created((p.row, p.scores), vec![]))
                }
                Ok(p) => self.replay(conn, p)?,
            });
        }
        let (owners, raises): (Vec<usize>, Vec<_>) = raises.into_iter().unzip();
        for (owner, alert) in owners
            .into_iter()
            .zip(alerts::raise_all(conn, self.tenant, raises)?)
        {
            if let (Some(alert), Some(Ok(Outcome::Created(_, alerts)))) =
                (alert, outcomes.get_mut(owner))
            {
                alerts.push(alert);
            }
        }
        if !events.is_empty() {
            db::webhooks::enqueue_all(conn, self.tenant, &events)?;
        }
        Ok(outcomes)
    }

    /// A check-in whose id was taken: the same one sent again, or a different one under a used id.
    fn replay(
        &self,
        conn: &mut PgConnection,
        p: Prepared,
    ) -> Result<Result<Outcome, Error>, Error> {
        let conflict =
            || Error::Conflict("a different check-in was already stored under this id".into());
        let Some(existing) = db::check_ins::get(conn, self.tenant, p.row.id)? else {
            return Ok(Err(conflict()));
        };
        if fingerprint(&existing) != fingerprint(&(p.row, p.scores)) {
            return Ok(Err(conflict()));
        }
        let alerts = db::alerts::of_check_in(conn, self.tenant, existing.0.id)?
            .into_iter()
            .map(|a| AlertRef {
                id: a.id.uuid(),
                rule: a.rule,
                level: a.level,
            })
            .collect();
        Ok(Ok(Outcome::Replayed(existing, alerts)))
    }

    /// Runs the rules a check-in can trigger: the alerts to raise (or add evidence to).
    /// `daily` keeps each treatment's daily worst scores once read (they include this request's
    /// check-ins, and the rules look only at days before the check-in's own).
    fn rules(
        &self,
        conn: &mut PgConnection,
        p: &Prepared,
        daily: &mut HashMap<Uuid, Vec<(String, i32, i16)>>,
    ) -> Result<Vec<(Rule, alerts::Occasion)>, Error> {
        let row = &p.row;
        let kinds: Vec<(String, SymptomKind, i16)> = p
            .scores
            .iter()
            .filter_map(|s| {
                let item = self
                    .clinic
                    .catalogue
                    .iter()
                    .find(|i| i.code == s.symptom_code)?;
                Some((s.symptom_code.clone(), item.kind, s.score))
            })
            .collect();
        let lowest = if needs_earlier_days(row.day, &kinds) {
            let rows = match daily.entry(row.treatment_id.uuid()) {
                Entry::Occupied(rows) => rows.into_mut(),
                Entry::Vacant(slot) => slot.insert(db::check_ins::daily_worst(
                    conn,
                    self.tenant,
                    row.treatment_id,
                    &WORSENING,
                )?),
            };
            lowest_before(row.day, rows.iter().cloned())
        } else {
            BTreeMap::new()
        };
        let codes: Vec<String> = kinds.iter().map(|(c, _, _)| c.clone()).collect();
        let usual = self
            .store
            .usual_resolution_days(p.protocol_id.uuid(), &codes);
        let usual_resolution_day =
            |code: &str| codes.iter().position(|c| c == code).and_then(|i| usual[i]);
        let observation = Observation {
            day: row.day,
            scores: &kinds,
            lowest_before: &lowest,
            usual_resolution_day: &usual_resolution_day,
        };
        evaluate(&observation)
            .into_iter()
            .map(|(rule, evidence)| {
                let detail =
                    serde_json::to_value(&evidence).map_err(|e| Error::Internal(e.into()))?;
                let on = alerts::Occasion {
                    patient_id: row.patient_id,
                    treatment_id: row.treatment_id,
                    day: row.day,
                    check_in_id: Some(row.id),
                    detail,
                };
                Ok((rule, on))
            })
            .collect()
    }
}
