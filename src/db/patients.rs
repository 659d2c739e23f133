//! Patients, and the clinic's list of them with its search and filters.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::patients;
use super::{Cursor, PageRequest, Tenant};
use crate::domain::codes::Concern;
use crate::domain::ids::{PatientId, ProtocolId, TreatmentId};
use crate::domain::text::record_key;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = patients)]
pub struct Patient {
    pub id: PatientId,
    pub external_ref: String,
    pub display_name: Option<String>,
    pub birth_year: Option<i32>,
    pub fitzpatrick_type: Option<i16>,
    pub concerns: Vec<Option<Concern>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The record number as compared: look-alikes share it (`domain::text::record_key`).
    pub external_ref_key: String,
    /// `+` and digits (`domain::clinic::parse_phone`).
    pub contact_phone: Option<String>,
}

/// A partial update: `None` leaves a column as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = patients)]
pub struct PatientChanges {
    pub external_ref: Option<String>,
    pub external_ref_key: Option<String>,
    pub display_name: Option<Option<String>>,
    pub birth_year: Option<Option<i32>>,
    pub fitzpatrick_type: Option<Option<i16>>,
    pub concerns: Option<Vec<Option<Concern>>>,
    pub contact_phone: Option<Option<String>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Patient) -> QueryResult<Patient> {
    diesel::insert_into(patients::table)
        .values((patients::clinic_id.eq(tenant.id()), new))
        .returning(Patient::as_returning())
        .get_result(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: PatientId) -> QueryResult<Patient> {
    patients::table
        .filter(patients::clinic_id.eq(tenant.id()).and(patients::id.eq(id)))
        .select(Patient::as_select())
        .first(conn)
}

pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: PatientId,
    changes: &PatientChanges,
) -> QueryResult<Patient> {
    diesel::update(
        patients::table.filter(patients::clinic_id.eq(tenant.id()).and(patients::id.eq(id))),
    )
    .set(changes)
    .returning(Patient::as_returning())
    .get_result(conn)
}

/// What the patient list is narrowed to; the default is every patient of the clinic.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub search: Option<Search>,
    /// Patients whose latest treatment is of this protocol.
    pub protocol_id: Option<ProtocolId>,
    /// Patients with (true) or without (false) open or acknowledged alerts.
    pub open_alerts: Option<bool>,
    pub latest: Option<LatestAmong>,
}

/// Typed text, in the forms the indexes compare: a prefix of the record number's compared form
/// (`record_key`), or a prefix of words of the name.
#[derive(Debug, Clone)]
pub struct Search {
    /// Empty when the text has no letter or digit.
    record_prefix: String,
    /// A prefix tsquery (`'ale':* & 'mo':*`): each word of the text begins a word of the name.
    /// Words are letters and digits only, so they need no quoting beyond the quotes.
    name_words: Option<String>,
}

impl Search {
    pub fn of(text: &str) -> Search {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("'{}':*", w.to_lowercase()))
            .collect();
        Search {
            record_prefix: record_key(text),
            name_words: (!words.is_empty()).then(|| words.join(" & ")),
        }
    }
}

/// Patients whose latest treatment is one of `ids`; or, with `or_none_of`, whose latest treatment
/// is none of those (or who have none).
#[derive(Debug, Clone, Default)]
pub struct LatestAmong {
    pub ids: Vec<Uuid>,
    pub or_none_of: Option<Vec<Uuid>>,
}

/// A patient of the list, with their latest treatment and their open or acknowledged alerts.
#[derive(Debug, QueryableByName)]
pub struct Listed {
    #[diesel(embed)]
    pub patient: Patient,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub treatment_id: Option<TreatmentId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub protocol_id: Option<ProtocolId>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub performed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub open_alerts: i64,
    /// The highest level's rank among them (`Level::rank`: urgent is 0).
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub top_level_rank: Option<i16>,
}

/// Each patient with their latest treatment (by `performed_at`, through
/// `treatments_patient_page_idx`) and their unresolved alerts (`alerts_patient_unresolved_idx`).
const LIST: &str = "
SELECT p.id, p.external_ref, p.display_name, p.birth_year, p.fitzpatrick_type, p.concerns,
       p.created_at, p.updated_at, p.external_ref_key, p.contact_phone,
       lt.id AS treatment_id, lt.protocol_id, lt.performed_at, al.open_alerts, al.top_level_rank
  FROM patients p
  LEFT JOIN LATERAL (
       SELECT t.id, t.protocol_id, t.performed_at FROM treatments t
        WHERE t.clinic_id = p.clinic_id AND t.patient_id = p.id
        ORDER BY t.performed_at DESC, t.id DESC LIMIT 1) lt ON true
 CROSS JOIN LATERAL (
       SELECT count(*) AS open_alerts, min(a.level_rank) AS top_level_rank FROM alerts a
        WHERE a.clinic_id = p.clinic_id AND a.patient_id = p.id AND a.status <> 'resolved') al
 WHERE p.clinic_id = $1";

/// A page of the clinic's patients that pass `filter`, oldest first, with one row more than the
/// page when there is a next one.
pub fn list(
    conn: &mut PgConnection,
    tenant: Tenant,
    filter: &ListFilter,
    page: PageRequest,
) -> QueryResult<Vec<Listed>> {
    let mut n = 1;
    let mut next = move || {
        n += 1;
        format!("${n}")
    };
    let mut query = diesel::sql_query(LIST)
        .into_boxed::<Pg>()
        .bind::<SqlUuid, _>(tenant.id());
    if let Some(search) = &filter.search {
        // Each alternative is answered by its own index; the planner ORs their bitmaps.
        let mut alternatives = vec![];
        let mut texts = vec![];
        if !search.record_prefix.is_empty() {
            alternatives.push(format!("p.external_ref_key LIKE {}", next()));
            texts.push(format!("{}%", search.record_prefix));
        }
        if let Some(words) = &search.name_words {
            alternatives.push(format!(
                "to_tsvector('simple', p.display_name) @@ to_tsquery('simple', {})",
                next()
            ));
            texts.push(words.clone());
        }
        if alternatives.is_empty() {
            alternatives.push("false".into());
        }
        query = query.sql(format!(" AND ({})", alternatives.join(" OR ")));
        for text in texts {
            query = query.bind::<Text, _>(text);
        }
    }
    if let Some(protocol_id) = filter.protocol_id {
        query = query
            .sql(format!(" AND lt.protocol_id = {}", next()))
            .bind::<SqlUuid, _>(protocol_id);
    }
    match filter.open_alerts {
        Some(true) => query = query.sql(" AND al.open_alerts > 0"),
        Some(false) => query = query.sql(" AND al.open_alerts = 0"),
        None => {}
    }
    if let Some(latest) = &filter.latest {
        query = query
            .sql(format!(" AND (lt.id = ANY({})", next()))
            .bind::<Array<SqlUuid>, _>(latest.ids.clone());
        if let Some(others) = &latest.or_none_of {
            query = query
                .sql(format!(" OR lt.id IS NULL OR lt.id <> ALL({})", next()))
                .bind::<Array<SqlUuid>, _>(others.clone());
        }
        query = query.sql(")");
    }
    if let Some(Cursor { at, id }) = page.after {
        query = query
            .sql(format!(
                " AND (p.created_at, p.id) > ({}, {})",
                next(),
                next()
            ))
            .bind::<Timestamptz, _>(at)
            .bind::<SqlUuid, _>(id);
    }
    query
        .sql(format!(" ORDER BY p.created_at, p.id LIMIT {}", next()))
        .bind::<BigInt, _>(page.limit + 1)
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_a_record_prefix_and_prefix_words() {
        let s = Search::of("MRN-00 4");
        assert_eq!(s.record_prefix, "mrn004");
        assert_eq!(s.name_words.as_deref(), Some("'mrn':* & '00':* & '4':*"));
        let s = Search::of("Ánne-Marie o'Brien");
        assert_eq!(s.record_prefix, "annemarieobrien");
        assert_eq!(
            s.name_words.as_deref(),
            Some("'ánne':* & 'marie':* & 'o':* & 'brien':*")
        );
        // Nothing of the tsquery syntax or of LIKE's wildcards gets through.
        let s = Search::of("%_' \\ & | ! :* ()");
        assert_eq!(s.record_prefix, "");
        assert_eq!(s.name_words, None);
    }
}
