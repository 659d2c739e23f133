//! The queries behind FHIR reads, searches and exports: a clinic's rows of one kind, optionally of
//! one patient and last updated within a window, in a stable order (last updated, then id), a page
//! at a time: after a cursor (an export's pages, a search's `next` links), which reads no earlier
//! row again, or after an offset (a search that asks for one).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::Tenant;
use super::adverse_events::AdverseEvent;
use super::check_ins::{self, CheckIn, Stored};
use super::patients::Patient;
use super::protocols::Protocol;
use super::schema::{adverse_events, check_ins as check_ins_t, patients, protocols, treatments};
use super::treatments::Treatment;
use crate::domain::ids::{AdverseEventId, PatientId, ProtocolId, TreatmentId};

/// Which rows: of one patient (or all), last updated in `[from, to)`, matching a search's
/// `criteria`, within an export's `seen` snapshots, after `after` (in the order of the rows),
/// `limit` of them after skipping `offset`.
#[derive(Debug, Clone)]
pub struct Filter {
    pub patient: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub criteria: Criteria,
    pub seen: Option<Seen>,
    pub after: Option<Cursor>,
    pub offset: i64,
    pub limit: i64,
}

/// What a FHIR search asks of the rows besides their last update, resolved to columns. `None`
/// asks nothing; an empty list matches no row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    /// The row's patient is one of these (for patients, the row itself).
    pub patients: Option<Vec<Uuid>>,
    /// Patients: the record number is one of these.
    pub record_numbers: Option<Vec<String>>,
    /// When the row happened, for an instant (a check-in recorded, a treatment performed).
    pub at: Span<DateTime<Utc>>,
    /// When the row happened, for a day (a complication's onset, an outcome assessed).
    pub on: Span<NaiveDate>,
    /// Observations of check-ins: the symptom is one of these.
    pub score_codes: Option<Vec<String>>,
    /// Observations of outcomes: the value is one of these (`gais`, ...) ...
    pub outcome_codes: Option<Vec<String>>,
    /// ... and whoever rated it (`clinician`, `patient`) one of these.
    pub assessors: Option<Vec<String>>,
    /// Questionnaires: the version is one of these.
    pub questionnaire_versions: Option<Vec<String>>,
}

/// An export's rows by the transactions that last wrote them: those its own snapshot sees and,
/// for a `_since` export after another, that the other's did not. Snapshots are `pg_snapshot`s
/// as text (`xmin:xmax:xip,...`).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub by: String,
    pub not_by: Option<String>,
}

impl Seen {
    /// The SQL that keeps a row whose transaction is `xid` (a column), with the snapshots bound
    /// as `$by`, `$not_by` and the latter's xmin as `$xmin` (each may be NULL: no bound).
    fn sql(xid: &str, by: &str, not_by: &str, xmin: &str) -> String {
        format!(
            "({by}::text IS NULL OR pg_visible_in_snapshot({xid}, {by}::pg_snapshot))              AND ({not_by}::text IS NULL OR ({xid} >= {xmin}::xid8              AND NOT pg_visible_in_snapshot({xid}, {not_by}::pg_snapshot)))"
        )
    }

    /// The first transaction a snapshot may not see: only those from it on can be new.
    pub(super) fn xmin(snapshot: &str) -> String {
        snapshot.split(':').next().unwrap_or("0").to_string()
    }
}

/// A half-open span `[from, to)`; `None` leaves a side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span<T> {
    pub from: Option<T>,
    pub to: Option<T>,
}

impl Filter {
    /// Every row of the kind.
    pub fn all(offset: i64, limit: i64) -> Filter {
        Filter {
            patient: None,
            from: None,
            to: None,
            criteria: Criteria::default(),
            seen: None,
            after: None,
            offset,
            limit,
        }
    }
}

/// A row's place in the order of its kind: its last update, its id, and (for an observation, of
/// which a check-in has several) its code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cursor {
    pub updated: DateTime<Utc>,
    pub id: Uuid,
    pub code: String,
}

impl Cursor {
    pub fn new(updated: DateTime<Utc>, id: Uuid) -> Cursor {
        Cursor {
            updated,
            id,
            code: String::new(),
        }
    }

    /// Before every row: all the times the service records come after 1970. A first page read
    /// after it is read as the next pages are.
    pub fn start() -> Cursor {
        Cursor::default()
    }

    /// The cursor as a search's `next` link gives it out: opaque to clients.
    pub fn token(&self) -> String {
        let text = format!(
            "{}.{}.{}",
            self.updated.timestamp_micros(),
            self.id,
            self.code
        );
        super::cursor_token(&text)
    }

    /// A cursor [`Cursor::token`] gave out; none for anything else.
    pub fn from_token(token: &str) -> Option<Cursor> {
        let text = super::cursor_text(token)?;
        let mut parts = text.splitn(3, '.');
        let updated = super::cursor_time(parts.next()?)?;
        let id = parts.next()?.parse().ok()?;
        let code = parts.next()?;
        let code_ok = code.is_empty() || crate::domain::symptoms::is_code(code);
        code_ok.then(|| Cursor {
            updated,
            id,
            code: code.to_string(),
        })
    }
}

/// Applies a filter to a boxed query of one table (named `$table`, whose `xid` column the
/// snapshots read): its clinic, patient and last-updated columns.
macro_rules! filtered {
    ($query:expr, $tenant:expr, $f:expr, $table:literal, $clinic:path, $patient:path, $updated:path, $id:path) => {{
        let mut q = $query
            .filter($clinic.eq($tenant.id()))
            .order(($updated, $id))
            .offset($f.offset)
            .limit($f.limit)
            .into_boxed();
        if let Some(p) = $f.patient {
            q = q.filter($patient.eq(p));
        }
        if let Some(ps) = &$f.criteria.patients {
            q = q.filter($patient.eq_any(ps.clone()));
        }
        if let Some(from) = $f.from {
            q = q.filter($updated.ge(from));
        }
        if let Some(to) = $f.to {
            q = q.filter($updated.lt(to));
        }
        if let Some(seen) = &$f.seen {
            use diesel::dsl::sql;
            use diesel::sql_types::Bool;
            let xid = concat!($table, ".xid");
            q = q.filter(
                sql::<Bool>(&format!("pg_visible_in_snapshot({xid}, "))
                    .bind::<Text, _>(seen.by.clone())
                    .sql("::pg_snapshot)"),
            );
            if let Some(not_by) = &seen.not_by {
                q = q.filter(
                    sql::<Bool>(&format!("{xid} >= "))
                        .bind::<Text, _>(Seen::xmin(not_by))
                        .sql(&format!("::xid8 AND NOT pg_visible_in_snapshot({xid}, "))
                        .bind::<Text, _>(not_by.clone())
                        .sql("::pg_snapshot)"),
                );
            }
        }
        if let Some(c) = &$f.after {
            // The first column bounds the index scan; the second breaks its ties.
            q = q.filter(
                $updated
                    .ge(c.updated)
                    .and($updated.gt(c.updated).or($id.gt(c.id))),
            );
        }
        q
    }};
}
pub(crate) use filtered;

pub fn patients(conn: &mut PgConnection, tenant: Tenant, f: Filter) -> QueryResult<Vec<Patient>> {
    let q = patients::table.select(Patient::as_select());
    let mut q = filtered!(
        q,
        tenant,
        f,
        "patients",
        patients::clinic_id,
        patients::id,
        patients::updated_at,
        patients::id
    );
    if let Some(refs) = &f.criteria.record_numbers {
        q = q.filter(patients::external_ref.eq_any(refs.clone()));
    }
    q.load(conn)
}

pub fn treatments(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
) -> QueryResult<Vec<Treatment>> {
    let q = treatments::table.select(Treatment::as_select());
    let mut q = filtered!(
        q,
        tenant,
        f,
        "treatments",
        treatments::clinic_id,
        treatments::patient_id,
        treatments::created_at,
        treatments::id
    );
    if let Some(from) = f.criteria.at.from {
        q = q.filter(treatments::performed_at.ge(from));
    }
    if let Some(to) = f.criteria.at.to {
        q = q.filter(treatments::performed_at.lt(to));
    }
    q.load(conn)
}

pub fn check_ins(conn: &mut PgConnection, tenant: Tenant, f: Filter) -> QueryResult<Vec<Stored>> {
    let q = check_ins_t::table.select(CheckIn::as_select());
    let mut q = filtered!(
        q,
        tenant,
        f,
        "check_ins",
        check_ins_t::clinic_id,
        check_ins_t::patient_id,
        check_ins_t::received_at,
        check_ins_t::id
    );
    if let Some(from) = f.criteria.at.from {
        q = q.filter(check_ins_t::recorded_at.ge(from));
    }
    if let Some(to) = f.criteria.at.to {
        q = q.filter(check_ins_t::recorded_at.lt(to));
    }
    let rows = q.load(conn)?;
    check_ins::with_scores(conn, rows)
}

pub fn adverse_events(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
) -> QueryResult<Vec<AdverseEvent>> {
    let q = adverse_events::table.select(AdverseEvent::as_select());
    let mut q = filtered!(
        q,
        tenant,
        f,
        "adverse_events",
        adverse_events::clinic_id,
        adverse_events::patient_id,
        adverse_events::updated_at,
        adverse_events::id
    );
    if let Some(from) = f.criteria.on.from {
        q = q.filter(adverse_events::onset_date.ge(from));
    }
    if let Some(to) = f.criteria.on.to {
        q = q.filter(adverse_events::onset_date.lt(to));
    }
    q.load(conn)
}

pub fn adverse_event(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AdverseEventId,
) -> QueryResult<AdverseEvent> {
    adverse_events::table
        .filter(adverse_events::clinic_id.eq(tenant.id()))
        .filter(adverse_events::id.eq(id))
        .select(AdverseEvent::as_select())
        .first(conn)
}

/// One value of a check-in or an outcome: what an Observation shows.
#[derive(Debug, Clone, QueryableByName)]
pub struct ObservationRow {
    /// The check-in's or the outcome's id.
    #[diesel(sql_type = SqlUuid)]
    pub source_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: PatientId,
    #[diesel(sql_type = SqlUuid)]
    pub treatment_id: TreatmentId,
    /// The symptom's code, or `gais`, `satisfaction`, `goodman_baron`.
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Int4)]
    pub value: i32,
    /// When a check-in was recorded.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub effective_at: Option<DateTime<Utc>>,
    /// The day an outcome was assessed.
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    pub effective_on: Option<NaiveDate>,
    #[diesel(sql_type = Timestamptz)]
    pub last_updated: DateTime<Utc>,
    /// Who rated an outcome (`clinician` or `patient`); none for a score.
    #[diesel(sql_type = Nullable<Text>)]
    pub assessor: Option<String>,
    /// An outcome changed since it was recorded.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub amended: bool,
}

/// The scores of check-ins and the values of outcomes, as one list. `{scores}` is [`ALL_SCORES`],
/// or (paging by cursor) [`NEXT_SCORES`]; `{seen_*}` the bounds of [`Seen`], bound as $20-$22.
const OBSERVATIONS: &str = "
WITH obs AS (
  SELECT s.check_in_id AS source_id, c.patient_id, c.treatment_id, s.symptom_code AS code,
         s.score::int4 AS value, c.recorded_at AS effective_at, NULL::date AS effective_on,
         c.received_at AS last_updated, NULL::text AS assessor, false AS amended
    FROM {scores}
   WHERE c.clinic_id = $1
     AND ($12::uuid[] IS NULL OR c.patient_id = ANY($12))
     AND ($13::timestamptz IS NULL OR c.recorded_at >= $13)
     AND ($14::timestamptz IS NULL OR c.recorded_at < $14)
     AND ($15::text[] IS NULL OR s.symptom_code = ANY($15))
     AND {seen_c}
  UNION ALL
  SELECT o.id, o.patient_id, o.treatment_id, m.code, m.value, NULL, o.assessed_on,
         o.updated_at, o.assessor, o.updated_at > o.created_at
    FROM outcomes o
   CROSS JOIN LATERAL (VALUES ('gais', o.gais::int4), ('satisfaction', o.satisfaction::int4),
                              ('goodman_baron', o.goodman_baron::int4)) AS m(code, value)
   WHERE o.clinic_id = $1 AND m.value IS NOT NULL
     AND ($12::uuid[] IS NULL OR o.patient_id = ANY($12))
     AND ($16::date IS NULL OR o.assessed_on >= $16)
     AND ($17::date IS NULL OR o.assessed_on < $17)
     AND ($18::text[] IS NULL OR m.code = ANY($18))
     AND ($19::text[] IS NULL OR o.assessor = ANY($19))
     AND {seen_o}
)
SELECT * FROM obs
 WHERE ($2::uuid IS NULL OR patient_id = $2)
   AND ($3::timestamptz IS NULL OR last_updated >= $3)
   AND ($4::timestamptz IS NULL OR last_updated < $4)
   AND ($5::uuid IS NULL OR source_id = $5)
   AND ($6::text IS NULL OR code = $6)
   AND ($7::timestamptz IS NULL OR (last_updated, source_id, code) > ($7, $8, $9))
 ORDER BY last_updated, source_id, code
 OFFSET $10 LIMIT $11";

/// Every score of the clinic, with its check-in: the planner joins them as it sees fit.
const ALL_SCORES: &str = "check_in_scores s JOIN check_ins c ON c.id = s.check_in_id";

/// The scores a page after a cursor may show: those of the first `offset + limit` check-ins at or
/// after the cursor's (a check-in has at least one score), found through the clinic's index on
/// `received_at`, and their scores through the primary key, check-in by check-in (`OFFSET 0` keeps
/// the planner from hashing every score of the clinic instead). A search by symptom counts only
/// the check-ins that scored one of them.
const NEXT_SCORES: &str = "(
  SELECT * FROM check_ins
   WHERE clinic_id = $1
     AND ($2::uuid IS NULL OR patient_id = $2)
     AND ($3::timestamptz IS NULL OR received_at >= $3)
     AND ($4::timestamptz IS NULL OR received_at < $4)
     AND ($12::uuid[] IS NULL OR patient_id = ANY($12))
     AND ($13::timestamptz IS NULL OR recorded_at >= $13)
     AND ($14::timestamptz IS NULL OR recorded_at < $14)
     AND ($15::text[] IS NULL OR EXISTS (SELECT 1 FROM check_in_scores x
           WHERE x.check_in_id = check_ins.id AND x.symptom_code = ANY($15)))
     AND {seen_next}
     AND received_at >= $7 AND (received_at, id) >= ($7, $8)
   ORDER BY received_at, id
   LIMIT $10 + $11) c
  CROSS JOIN LATERAL (SELECT * FROM check_in_scores s WHERE s.check_in_id = c.id OFFSET 0) s";

pub fn observations(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
) -> QueryResult<Vec<ObservationRow>> {
    observations_where(conn, tenant, f, None)
}

/// One observation: the value `code` of the check-in or outcome `source`.
pub fn observation(
    conn: &mut PgConnection,
    tenant: Tenant,
    source: Uuid,
    code: &str,
) -> QueryResult<ObservationRow> {
    let f = Filter::all(0, 1);
    observations_where(conn, tenant, f, Some((source, code)))?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

fn observations_where(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
    one: Option<(Uuid, &str)>,
) -> QueryResult<Vec<ObservationRow>> {
    let scores = if f.after.is_some() {
        NEXT_SCORES
    } else {
        ALL_SCORES
    };
    let c = f.criteria.clone();
    let seen = |xid: &str| Seen::sql(xid, "$20", "$21", "$22");
    let query = OBSERVATIONS
        .replace("{scores}", scores)
        .replace("{seen_next}", &seen("check_ins.xid"))
        .replace("{seen_c}", &seen("c.xid"))
        .replace("{seen_o}", &seen("o.xid"));
    let by = f.seen.as_ref().map(|s| s.by.clone());
    let not_by = f.seen.as_ref().and_then(|s| s.not_by.clone());
    let xmin = not_by.as_deref().map(Seen::xmin);
    diesel::sql_query(query)
        .bind::<SqlUuid, _>(tenant.id())
        .bind::<Nullable<SqlUuid>, _>(f.patient)
        .bind::<Nullable<Timestamptz>, _>(f.from)
        .bind::<Nullable<Timestamptz>, _>(f.to)
        .bind::<Nullable<SqlUuid>, _>(one.map(|(s, _)| s))
        .bind::<Nullable<Text>, _>(one.map(|(_, c)| c.to_string()))
        .bind::<Nullable<Timestamptz>, _>(f.after.as_ref().map(|c| c.updated))
        .bind::<SqlUuid, _>(f.after.as_ref().map_or(Uuid::nil(), |c| c.id))
        .bind::<Text, _>(f.after.as_ref().map_or("", |c| c.code.as_str()))
        .bind::<BigInt, _>(f.offset)
        .bind::<BigInt, _>(f.limit)
        .bind::<Nullable<Array<SqlUuid>>, _>(c.patients)
        .bind::<Nullable<Timestamptz>, _>(c.at.from)
        .bind::<Nullable<Timestamptz>, _>(c.at.to)
        .bind::<Nullable<Array<Text>>, _>(c.score_codes)
        .bind::<Nullable<Date>, _>(c.on.from)
        .bind::<Nullable<Date>, _>(c.on.to)
        .bind::<Nullable<Array<Text>>, _>(c.outcome_codes)
        .bind::<Nullable<Array<Text>>, _>(c.assessors)
        .bind::<Nullable<Text>, _>(by)
        .bind::<Nullable<Text>, _>(not_by)
        .bind::<Nullable<Text>, _>(xmin)
        .load(conn)
}

/// A protocol's cohort: the protocol, the patients treated under it, and when it last changed
/// (the protocol's creation or its latest treatment).
#[derive(Debug, Clone)]
pub struct Cohort {
    pub protocol: Protocol,
    pub members: Vec<PatientId>,
    pub last_updated: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Member {
    #[diesel(sql_type = SqlUuid)]
    protocol_id: ProtocolId,
    #[diesel(sql_type = SqlUuid)]
    patient_id: PatientId,
    #[diesel(sql_type = Timestamptz)]
    treated: DateTime<Utc>,
}

/// The clinic's protocols as cohorts (a clinic has a handful), last updated in `[from, to)`.
pub fn cohorts(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: Filter,
    only: Option<Uuid>,
) -> QueryResult<Vec<Cohort>> {
    let mut q = protocols::table
        .filter(protocols::clinic_id.eq(tenant.id()))
        .select(Protocol::as_select())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(protocols::id.eq(id));
    }
    let protocols: Vec<Protocol> = q.load(conn)?;
    let ids: Vec<ProtocolId> = protocols.iter().map(|p| p.id).collect();
    let members: Vec<Member> = diesel::sql_query(
        "SELECT protocol_id, patient_id, max(created_at) AS treated FROM treatments
          WHERE clinic_id = $1 AND protocol_id = ANY($2)
          GROUP BY protocol_id, patient_id ORDER BY protocol_id, patient_id",
    )
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<Array<SqlUuid>, _>(&ids)
    .load(conn)?;
    let mut cohorts: Vec<Cohort> = protocols
        .into_iter()
        .map(|protocol| {
            let mine = members.iter().filter(|m| m.protocol_id == protocol.id);
            let last = mine.clone().map(|m| m.treated).max();
            Cohort {
                last_updated: last.map_or(protocol.created_at, |l| l.max(protocol.created_at)),
                members: mine.map(|m| m.patient_id).collect(),
                protocol,
            }
        })
        .filter(|c| f.from.is_none_or(|from| c.last_updated >= from))
        .filter(|c| f.to.is_none_or(|to| c.last_updated < to))
        .filter(|c| {
            f.after.as_ref().is_none_or(|a| {
                (c.last_updated, c.protocol.id) > (a.updated, ProtocolId::from(a.id))
            })
        })
        .collect();
    cohorts.sort_by_key(|c| (c.last_updated, c.protocol.id));
    Ok(cohorts
        .into_iter()
        .skip(f.offset as usize)
        .take(f.limit as usize)
        .collect())
}

/// The protocols of these treatments.
pub fn protocols_of(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatments: &[Treatment],
) -> QueryResult<Vec<Protocol>> {
    let ids: Vec<ProtocolId> = treatments.iter().map(|t| t.protocol_id).collect();
    super::protocols::by_ids(conn, tenant, &ids)
}
