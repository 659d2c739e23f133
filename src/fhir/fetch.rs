//! Loads a clinic's resources of one type as FHIR JSON: one by id (a read), or a page of them (a
//! search, or a page of an export), each with the patient it is about, for the audit trail.

use diesel::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::ids::parse_observation_id;
use super::kind::Kind;
use super::questionnaire::{self as q, parse_questionnaire_id};
use super::resources as r;
use crate::db::fhir::{self as fq, Cursor, Filter};
use crate::db::{self, Tenant};
use crate::domain::ids::{AdverseEventId, CheckInId, TreatmentId};

/// A resource, the patient it is about (none for a Questionnaire or a Group), and its place in the
/// order of its type (where the next page starts).
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub id: String,
    pub resource: Value,
    pub patient: Option<Uuid>,
    pub key: Cursor,
}

impl Entry {
    fn new(kind: Kind, resource: Value, patient: Option<Uuid>, key: Cursor) -> Entry {
        let id = resource["id"].as_str().unwrap_or_default().to_string();
        Entry {
            kind,
            id,
            resource,
            patient,
            key,
        }
    }

    /// `Type/id`, as references and full URLs name it.
    pub fn path(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.id)
    }
}

/// One resource by its id; an id that can't be one of this type is not found. `base` is the FHIR
/// base as clients reach it (a Media's content names its Binary's URL under it).
pub fn read(
    conn: &mut PgConnection,
    tenant: Tenant,
    kind: Kind,
    id: &str,
    base: &str,
) -> Result<Entry, db::Error> {
    if kind == Kind::Observation {
        let key = parse_observation_id(id).ok_or(db::Error::NotFound)?;
        let row = fq::observation(conn, tenant, key.source, &key.code)?;
        let catalogue = db::symptoms::catalogue(conn, tenant)?;
        return Ok(observation(&catalogue, &row));
    }
    if kind == Kind::Questionnaire {
        let (clinic, version) = parse_questionnaire_id(id).ok_or(db::Error::NotFound)?;
        let catalogue = db::symptoms::catalogue(conn, tenant)?;
        let found = (clinic == tenant.id().uuid())
            .then(|| versions(tenant, &catalogue).into_iter().nth(version - 1))
            .flatten();
        return found.ok_or(db::Error::NotFound);
    }
    let uuid: Uuid = id.parse().map_err(|_| db::Error::NotFound)?;
    let one = |entries: Vec<Entry>| entries.into_iter().next().ok_or(db::Error::NotFound);
    match kind {
        Kind::Patient => one(page(
            conn,
            tenant,
            kind,
            Filter {
                patient: Some(uuid),
                ..Filter::all(0, 1)
            },
            base,
        )?),
        Kind::Questionnaire => Err(db::Error::NotFound),
        Kind::Procedure => {
            let t = db::treatments::get(conn, tenant, TreatmentId::from(uuid))?;
            let protocols = fq::protocols_of(conn, tenant, std::slice::from_ref(&t))?;
            Ok(procedure(&t, protocols.first()))
        }
        Kind::QuestionnaireResponse => {
            let (c, scores) = db::check_ins::get(conn, tenant, CheckInId::from(uuid))?
                .ok_or(db::Error::NotFound)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            Ok(questionnaire_response(tenant, &catalogue, &c, &scores))
        }
        Kind::AdverseEvent => {
            let e = fq::adverse_event(conn, tenant, AdverseEventId::from(uuid))?;
            Ok(adverse_event(&e))
        }
        Kind::Group => one(cohorts(conn, tenant, Filter::all(0, 1), Some(uuid))?),
        Kind::Media => Ok(media(base, &db::photos::media_one(conn, tenant, uuid)?)),
        Kind::Observation => Err(db::Error::NotFound),
    }
}

/// A page of resources of one type, in the order of their last update (`base` as for [`read`]).
pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    kind: Kind,
    f: Filter,
    base: &str,
) -> Result<Vec<Entry>, db::Error> {
    let clinic = tenant.id().uuid();
    let entries = match kind {
        Kind::Patient => fq::patients(conn, tenant, f)?
            .iter()
            .map(|p| {
                let key = Cursor::new(p.updated_at, p.id.uuid());
                Entry::new(kind, r::patient(clinic, p), Some(p.id.uuid()), key)
            })
            .collect(),
        Kind::Procedure => {
            let rows = fq::treatments(conn, tenant, f)?;
            let protocols = fq::protocols_of(conn, tenant, &rows)?;
            rows.iter()
                .map(|t| procedure(t, protocols.iter().find(|p| p.id == t.protocol_id)))
                .collect()
        }
        Kind::Questionnaire => questionnaire(conn, tenant, f)?,
        Kind::QuestionnaireResponse => {
            let rows = fq::check_ins(conn, tenant, f)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            rows.iter()
                .map(|(c, s)| questionnaire_response(tenant, &catalogue, c, s))
                .collect()
        }
        Kind::Observation => {
            let rows = fq::observations(conn, tenant, f)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            rows.iter().map(|o| observation(&catalogue, o)).collect()
        }
        Kind::AdverseEvent => fq::adverse_events(conn, tenant, f)?
            .iter()
            .map(adverse_event)
            .collect(),
        Kind::Group => cohorts(conn, tenant, f, None)?,
        Kind::Media => db::photos::media(conn, tenant, f)?
            .iter()
            .map(|row| media(base, row))
            .collect(),
    };
    Ok(entries)
}

/// The versions of the clinic's Questionnaire, oldest first, each keyed by when it last changed
/// (a version is retired when the next begins).
fn versions(tenant: Tenant, catalogue: &[db::symptoms::Symptom]) -> Vec<Entry> {
    (1..=q::versions(catalogue).len())
        .filter_map(|v| {
            let resource = q::questionnaire(tenant.id().uuid(), catalogue, v)?;
            let updated = resource["meta"]["lastUpdated"].as_str()?.parse().ok()?;
            let key = Cursor {
                updated,
                id: tenant.id().uuid(),
                code: format!("v{v:09}"),
            };
            Some(Entry::new(Kind::Questionnaire, resource, None, key))
        })
        .collect()
}

/// The versions of the clinic's Questionnaire the filter lets through, in the order of their
/// last change.
fn questionnaire(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
) -> Result<Vec<Entry>, db::Error> {
    let catalogue = db::symptoms::catalogue(conn, tenant)?;
    let mut all = versions(tenant, &catalogue);
    all.sort_by(|a, b| (a.key.updated, &a.key.code).cmp(&(b.key.updated, &b.key.code)));
    let wanted = f.criteria.questionnaire_versions.as_ref();
    Ok(all
        .into_iter()
        .filter(|e| {
            let k = &e.key;
            f.after
                .as_ref()
                .is_none_or(|a| (k.updated, k.id, &k.code) > (a.updated, a.id, &a.code))
                && f.from.is_none_or(|from| k.updated >= from)
                && f.to.is_none_or(|to| k.updated < to)
                && wanted.is_none_or(|w| {
                    e.resource["version"]
                        .as_str()
                        .is_some_and(|v| w.iter().any(|x| x == v))
                })
        })
        .skip(usize::try_from(f.offset).unwrap_or(0))
        .take(usize::try_from(f.limit).unwrap_or(0))
        .collect())
}

fn cohorts(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
    only: Option<Uuid>,
) -> Result<Vec<Entry>, db::Error> {
    Ok(fq::cohorts(conn, tenant, f, only)?
        .iter()
        .map(|c| {
            let key = Cursor::new(c.last_updated, c.protocol.id.uuid());
            Entry::new(Kind::Group, r::group(c), None, key)
        })
        .collect())
}

fn procedure(t: &db::treatments::Treatment, protocol: Option<&db::protocols::Protocol>) -> Entry {
    let key = Cursor::new(t.created_at, t.id.uuid());
    Entry::new(
        Kind::Procedure,
        r::procedure(t, protocol),
        Some(t.patient_id.uuid()),
        key,
    )
}

fn questionnaire_response(
    tenant: Tenant,
    catalogue: &[db::symptoms::Symptom],
    c: &db::check_ins::CheckIn,
    scores: &[db::check_ins::ScoreRow],
) -> Entry {
    let resource = q::questionnaire_response(tenant.id().uuid(), catalogue, c, scores);
    let key = Cursor::new(c.received_at, c.id.uuid());
    Entry::new(
        Kind::QuestionnaireResponse,
        resource,
        Some(c.patient_id.uuid()),
        key,
    )
}

fn observation(catalogue: &[db::symptoms::Symptom], o: &fq::ObservationRow) -> Entry {
    let key = Cursor {
        updated: o.last_updated,
        id: o.source_id,
        code: o.code.clone(),
    };
    Entry::new(
        Kind::Observation,
        r::observation(catalogue, o),
        Some(o.patient_id.uuid()),
        key,
    )
}

fn media(base: &str, (p, treatment): &db::photos::MediaRow) -> Entry {
    let key = Cursor::new(p.created_at, p.id);
    let resource = super::media::media(base, p, *treatment);
    Entry::new(Kind::Media, resource, Some(p.patient_id.uuid()), key)
}

fn adverse_event(e: &db::adverse_events::AdverseEvent) -> Entry {
    let key = Cursor::new(e.updated_at, e.id.uuid());
    Entry::new(
        Kind::AdverseEvent,
        r::adverse_event(e),
        Some(e.patient_id.uuid()),
        key,
    )
}
