//! Loads a clinic's resources of one type as FHIR JSON: one by id (a read), or a page of them (a
//! search, or a page of an export), each with the patient it is about, for the audit trail.

use diesel::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::ids::parse_observation_id;
use super::kind::Kind;
use super::resources as r;
use crate::db::fhir::{self as q, Cursor, Filter};
use crate::db::{self, Tenant};
use crate::error::ApiError;

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

/// One resource by its id; an id that can't be one of this type is not found.
pub fn read(
    conn: &mut PgConnection,
    tenant: Tenant,
    kind: Kind,
    id: &str,
) -> Result<Entry, ApiError> {
    if kind == Kind::Observation {
        let key = parse_observation_id(id).ok_or(ApiError::NotFound)?;
        let row = q::observation(conn, tenant, key.source, &key.code)?;
        let catalogue = db::symptoms::catalogue(conn, tenant)?;
        return Ok(observation(&catalogue, &row));
    }
    let uuid: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let one = |entries: Vec<Entry>| entries.into_iter().next().ok_or(ApiError::NotFound);
    match kind {
        Kind::Patient => one(page(
            conn,
            tenant,
            kind,
            Filter {
                patient: Some(uuid),
                ..Filter::all(0, 1)
            },
        )?),
        Kind::Questionnaire if uuid == tenant.id().uuid() => {
            one(page(conn, tenant, kind, Filter::all(0, 1))?)
        }
        Kind::Questionnaire => Err(ApiError::NotFound),
        Kind::Procedure => {
            let t = db::treatments::get(conn, tenant, uuid)?;
            let protocols = q::protocols_of(conn, tenant, std::slice::from_ref(&t))?;
            Ok(procedure(&t, protocols.first()))
        }
        Kind::QuestionnaireResponse => {
            let (c, scores) = db::check_ins::get(conn, tenant, uuid)?.ok_or(ApiError::NotFound)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            Ok(questionnaire_response(tenant, &catalogue, &c, &scores))
        }
        Kind::AdverseEvent => {
            let e = q::adverse_event(conn, tenant, uuid)?;
            Ok(adverse_event(&e))
        }
        Kind::Group => one(cohorts(conn, tenant, Filter::all(0, 1), Some(uuid))?),
        Kind::Observation => Err(ApiError::NotFound),
    }
}

/// A page of resources of one type, in the order of their last update.
pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    kind: Kind,
    f: Filter,
) -> Result<Vec<Entry>, ApiError> {
    let clinic = tenant.id().uuid();
    let entries = match kind {
        Kind::Patient => q::patients(conn, tenant, f)?
            .iter()
            .map(|p| {
                let key = Cursor::new(p.updated_at, p.id);
                Entry::new(kind, r::patient(clinic, p), Some(p.id), key)
            })
            .collect(),
        Kind::Procedure => {
            let rows = q::treatments(conn, tenant, f)?;
            let protocols = q::protocols_of(conn, tenant, &rows)?;
            rows.iter()
                .map(|t| procedure(t, protocols.iter().find(|p| p.id == t.protocol_id)))
                .collect()
        }
        Kind::Questionnaire => questionnaire(conn, tenant, f)?,
        Kind::QuestionnaireResponse => {
            let rows = q::check_ins(conn, tenant, f)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            rows.iter()
                .map(|(c, s)| questionnaire_response(tenant, &catalogue, c, s))
                .collect()
        }
        Kind::Observation => {
            let rows = q::observations(conn, tenant, f)?;
            let catalogue = db::symptoms::catalogue(conn, tenant)?;
            rows.iter().map(|o| observation(&catalogue, o)).collect()
        }
        Kind::AdverseEvent => q::adverse_events(conn, tenant, f)?
            .iter()
            .map(adverse_event)
            .collect(),
        Kind::Group => cohorts(conn, tenant, f, None)?,
    };
    Ok(entries)
}

/// The clinic's one Questionnaire, if the filter lets it through.
fn questionnaire(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
) -> Result<Vec<Entry>, ApiError> {
    let catalogue = db::symptoms::catalogue(conn, tenant)?;
    let resource = r::questionnaire(tenant.id().uuid(), &catalogue);
    let updated = catalogue.iter().map(|s| s.created_at).max();
    let key = Cursor::new(updated.unwrap_or_default(), tenant.id().uuid());
    let shown = f.offset == 0
        && f.limit > 0
        && f.after
            .as_ref()
            .is_none_or(|a| (key.updated, key.id) > (a.updated, a.id))
        && updated
            .is_none_or(|u| f.from.is_none_or(|from| u >= from) && f.to.is_none_or(|to| u < to));
    Ok(shown
        .then(|| Entry::new(Kind::Questionnaire, resource, None, key))
        .into_iter()
        .collect())
}

fn cohorts(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
    only: Option<Uuid>,
) -> Result<Vec<Entry>, ApiError> {
    Ok(q::cohorts(conn, tenant, f, only)?
        .iter()
        .map(|c| {
            let key = Cursor::new(c.last_updated, c.protocol.id);
            Entry::new(Kind::Group, r::group(c), None, key)
        })
        .collect())
}

fn procedure(t: &db::treatments::Treatment, protocol: Option<&db::protocols::Protocol>) -> Entry {
    let key = Cursor::new(t.created_at, t.id);
    Entry::new(
        Kind::Procedure,
        r::procedure(t, protocol),
        Some(t.patient_id),
        key,
    )
}

fn questionnaire_response(
    tenant: Tenant,
    catalogue: &[db::symptoms::Symptom],
    c: &db::check_ins::CheckIn,
    scores: &[db::check_ins::ScoreRow],
) -> Entry {
    let resource = r::questionnaire_response(tenant.id().uuid(), catalogue, c, scores);
    let key = Cursor::new(c.received_at, c.id);
    Entry::new(
        Kind::QuestionnaireResponse,
        resource,
        Some(c.patient_id),
        key,
    )
}

fn observation(catalogue: &[db::symptoms::Symptom], o: &q::ObservationRow) -> Entry {
    let key = Cursor {
        updated: o.last_updated,
        id: o.source_id,
        code: o.code.clone(),
    };
    Entry::new(
        Kind::Observation,
        r::observation(catalogue, o),
        Some(o.patient_id),
        key,
    )
}

fn adverse_event(e: &db::adverse_events::AdverseEvent) -> Entry {
    let key = Cursor::new(e.updated_at, e.id);
    Entry::new(
        Kind::AdverseEvent,
        r::adverse_event(e),
        Some(e.patient_id),
        key,
    )
}
