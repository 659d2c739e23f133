//! Audit records: written as requests finish, sealed into each clinic's chain, read by admins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int2, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::{audit_chains, audit_events};
use super::{Cursor, PageRequest, Tenant};

use crate::domain::audit::Action;
pub use crate::domain::audit::Lookup;
use crate::domain::ids::PatientId;

/// A record to write. Its patient is looked up in the clinic's own rows, so an id of another
/// clinic names no patient.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_role: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub lookup: Option<(Lookup, Uuid)>,
    /// When the caller is a patient: the patient, if the lookup finds none.
    pub caller_patient: Option<Uuid>,
    pub request_id: String,
    pub status: i16,
    pub outcome: String,
}

impl Event {
    /// The record completed with the answer's status.
    pub fn answered(self, status: u16) -> Event {
        Event {
            status: status as i16,
            outcome: crate::domain::audit::outcome(status).to_string(),
            ..self
        }
    }
}

/// Writes the records of one request together; one record, the usual case, in one statement.
/// Writes records in one statement: one request that showed many patients (a list, the dashboard)
/// has one record per patient.
pub fn insert_all(conn: &mut PgConnection, tenant: Tenant, events: &[Event]) -> QueryResult<()> {
    let lookup = match events {
        [] => return Ok(()),
        [event] => return insert(conn, tenant, event),
        [first, ..] => first.lookup.map(|l| l.0),
    };
    if events.iter().any(|e| e.lookup.map(|l| l.0) != lookup) {
        return conn.transaction(|conn| events.iter().try_for_each(|e| insert(conn, tenant, e)));
    }
    let column = |f: fn(&Event) -> String| events.iter().map(f).collect::<Vec<_>>();
    diesel::sql_query(format!(
        "INSERT INTO audit_events (id, clinic_id, at, actor_id, actor_role, action, resource_type, \
         resource_id, request_id, status, outcome, patient_id) \
         SELECT e.id, $2, e.at, e.actor_id, e.actor_role, e.action, e.resource_type, e.resource_id, \
                e.request_id, e.status, e.outcome, COALESCE({}, e.caller_patient) \
           FROM unnest($1::uuid[], $3::timestamptz[], $4::uuid[], $5::text[], $6::text[], $7::text[], \
                       $8::uuid[], $9::text[], $10::int2[], $11::text[], $12::uuid[], $13::uuid[]) \
             AS e(id, at, actor_id, actor_role, action, resource_type, resource_id, request_id, \
                  status, outcome, caller_patient, lookup_id)",
        patient_of(lookup, "e.lookup_id")
    ))
    .bind::<Array<SqlUuid>, _>(events.iter().map(|e| e.id).collect::<Vec<_>>())
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<Array<Timestamptz>, _>(events.iter().map(|e| e.at).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(events.iter().map(|e| e.actor_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(column(|e| e.actor_role.clone()))
    .bind::<Array<Text>, _>(column(|e| e.action.clone()))
    .bind::<Array<Text>, _>(column(|e| e.resource_type.clone()))
    .bind::<Array<Nullable<SqlUuid>>, _>(events.iter().map(|e| e.resource_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(column(|e| e.request_id.clone()))
    .bind::<Array<Int2>, _>(events.iter().map(|e| e.status).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(column(|e| e.outcome.clone()))
    .bind::<Array<Nullable<SqlUuid>>, _>(events.iter().map(|e| e.caller_patient).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(events.iter().map(|e| e.lookup.map(|l| l.1)).collect::<Vec<_>>())
    .execute(conn)
    .map(drop)
}

/// The SQL that finds the patient a record's `id` names, looked up as `lookup` says, in the
/// clinic `$2`'s own rows.
fn patient_of(lookup: Option<Lookup>, id: &str) -> String {
    match lookup {
        Some(Lookup::Patient) => {
            format!("(SELECT id FROM patients WHERE clinic_id = $2 AND id = {id})")
        }
        Some(Lookup::ErasedPatient) => format!(
            "COALESCE((SELECT id FROM patients WHERE clinic_id = $2 AND id = {id}), \
             (SELECT patient_id FROM patient_erasures WHERE clinic_id = $2 AND patient_id = {id}))"
        ),
        Some(Lookup::Treatment) => {
            format!("(SELECT patient_id FROM treatments WHERE clinic_id = $2 AND id = {id})")
        }
        Some(Lookup::CheckIn) => {
            format!("(SELECT patient_id FROM check_ins WHERE clinic_id = $2 AND id = {id})")
        }
        Some(Lookup::Alert) => {
            format!("(SELECT patient_id FROM alerts WHERE clinic_id = $2 AND id = {id})")
        }
        None => id.to_string(),
    }
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, e: &Event) -> QueryResult<()> {
    let patient = patient_of(e.lookup.map(|l| l.0), "$13");
    diesel::sql_query(format!(
        "INSERT INTO audit_events (id, clinic_id, at, actor_id, actor_role, action, resource_type, \
         resource_id, request_id, status, outcome, patient_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE({patient}, $12))"
    ))
    .bind::<diesel::sql_types::Uuid, _>(e.id)
    .bind::<diesel::sql_types::Uuid, _>(tenant.id())
    .bind::<Timestamptz, _>(e.at)
    .bind::<diesel::sql_types::Uuid, _>(e.actor_id)
    .bind::<Text, _>(&e.actor_role)
    .bind::<Text, _>(&e.action)
    .bind::<Text, _>(&e.resource_type)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(e.resource_id)
    .bind::<Text, _>(&e.request_id)
    .bind::<Int2, _>(e.status)
    .bind::<Text, _>(&e.outcome)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(e.caller_patient)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(e.lookup.map(|l| l.1))
    .execute(conn)
    .map(drop)
}

/// A stored record; `seq`, `prev_hash` and `hash` are set once it is sealed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
pub struct Record {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_role: String,
    pub action: Action,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<PatientId>,
    pub request_id: String,
    pub status: i16,
    pub outcome: String,
    pub seq: Option<i64>,
    pub prev_hash: Option<Vec<u8>>,
    pub hash: Option<Vec<u8>>,
}

/// The oldest records not sealed yet, of every clinic, locked for sealing. No tenant: the sealing
/// job serves every clinic and splits them by clinic itself.
pub fn unsealed(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Record>> {
    audit_events::table
        .filter(audit_events::hash.is_null())
        .order((audit_events::at, audit_events::id))
        .limit(limit)
        .select(Record::as_select())
        .for_update()
        .load(conn)
}

pub fn count_unsealed(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<i64> {
    audit_events::table
        .filter(audit_events::clinic_id.eq(tenant.id()))
        .filter(audit_events::hash.is_null())
        .count()
        .get_result(conn)
}

/// Stores the seals of records (one statement for all of them). No tenant: the records come from
/// `unsealed`.
pub fn store_seals(conn: &mut PgConnection, records: &[Record]) -> QueryResult<()> {
    let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    let seqs: Vec<Option<i64>> = records.iter().map(|r| r.seq).collect();
    let prevs: Vec<Option<Vec<u8>>> = records.iter().map(|r| r.prev_hash.clone()).collect();
    let hashes: Vec<Option<Vec<u8>>> = records.iter().map(|r| r.hash.clone()).collect();
    diesel::sql_query(
        "UPDATE audit_events a SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash \
         FROM unnest($1::uuid[], $2::bigint[], $3::bytea[], $4::bytea[]) AS s(id, seq, prev_hash, hash) \
         WHERE a.id = s.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<diesel::sql_types::Array<Nullable<diesel::sql_types::BigInt>>, _>(seqs)
    .bind::<diesel::sql_types::Array<Nullable<diesel::sql_types::Binary>>, _>(prevs)
    .bind::<diesel::sql_types::Array<Nullable<diesel::sql_types::Binary>>, _>(hashes)
    .execute(conn)
    .map(drop)
}

/// The seq and hash of a clinic's last sealed record.
pub fn head(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Option<(i64, Vec<u8>)>> {
    audit_chains::table
        .find(tenant.id())
        .select((audit_chains::seq, audit_chains::hash))
        .first(conn)
        .optional()
}

pub fn set_head(conn: &mut PgConnection, tenant: Tenant, seq: i64, hash: &[u8]) -> QueryResult<()> {
    diesel::insert_into(audit_chains::table)
        .values((
            audit_chains::clinic_id.eq(tenant.id()),
            audit_chains::seq.eq(seq),
            audit_chains::hash.eq(hash),
        ))
        .on_conflict(audit_chains::clinic_id)
        .do_update()
        .set((audit_chains::seq.eq(seq), audit_chains::hash.eq(hash)))
        .execute(conn)
        .map(drop)
}

/// A clinic's sealed records after `seq`, in chain order.
pub fn sealed_after(
    conn: &mut PgConnection,
    tenant: Tenant,
    seq: i64,
    limit: i64,
) -> QueryResult<Vec<Record>> {
    audit_events::table
        .filter(audit_events::clinic_id.eq(tenant.id()))
        .filter(audit_events::seq.gt(seq))
        .order(audit_events::seq)
        .limit(limit)
        .select(Record::as_select())
        .load(conn)
}

/// Every clinic, in a stable order: for an operator checking every chain.
pub fn clinics(conn: &mut PgConnection) -> QueryResult<Vec<Uuid>> {
    super::schema::clinics::table
        .select(super::schema::clinics::id)
        .order(super::schema::clinics::id)
        .load(conn)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub patient_id: Option<PatientId>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A page of the clinic's records, newest first.
pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    filter: &Filter,
    page: PageRequest,
) -> QueryResult<Vec<Record>> {
    let mut query = audit_events::table
        .filter(audit_events::clinic_id.eq(tenant.id()))
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .limit(page.limit + 1)
        .select(Record::as_select())
        .into_boxed();
    if let Some(p) = filter.patient_id {
        query = query.filter(audit_events::patient_id.eq(p));
    }
    if let Some(a) = filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(a));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::at.lt(to));
    }
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            audit_events::at
                .lt(at)
                .or(audit_events::at.eq(at).and(audit_events::id.lt(id))),
        );
    }
    query.load(conn)
}
