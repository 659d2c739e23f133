//! What the recovery views read: every treatment's facts and daily worst scores, either all of them
//! or only what changed since a snapshot (see migration `change_tracking`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int2, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct TreatmentFacts {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub clinic_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub protocol_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub performed_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    pub session_number: i32,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    pub areas: Vec<Option<String>>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub fitzpatrick_type: Option<i16>,
    #[diesel(sql_type = Text)]
    pub timezone: String,
}

/// Scores of one symptom of one treatment: `days[i]` had `scores[i]`. In a full load, the worst
/// score of each day; in a delta, each new score.
#[derive(Debug, Clone, QueryableByName)]
pub struct Scores {
    #[diesel(sql_type = SqlUuid)]
    pub treatment_id: Uuid,
    #[diesel(sql_type = Text)]
    pub symptom_code: String,
    #[diesel(sql_type = Array<Int4>)]
    pub days: Vec<i32>,
    #[diesel(sql_type = Array<Int2>)]
    pub scores: Vec<i16>,
}

#[derive(QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = Text)]
    snapshot: String,
}

/// Everything new since `since` (everything, when `None`), and the snapshot it was read at.
pub struct Changes {
    pub snapshot: String,
    pub treatments: Vec<TreatmentFacts>,
    pub scores: Vec<Scores>,
}

const FACTS: &str = "SELECT t.id, t.clinic_id, t.protocol_id, t.patient_id, t.performed_at, t.session_number,
           t.areas, p.fitzpatrick_type, c.timezone
      FROM treatments t JOIN patients p ON p.id = t.patient_id JOIN clinics c ON c.id = t.clinic_id";

/// A row of `table` is new when its writing transaction was not visible in the snapshot `$1`.
/// Only transactions from that snapshot's xmin (`$2`) on can be new, which the xid index finds.
fn new_since(table: &str) -> String {
    format!("{table}.xid >= $2::xid8 AND NOT pg_visible_in_snapshot({table}.xid, $1::pg_snapshot)")
}

/// A snapshot reads `xmin:xmax:xip,...`.
fn xmin(snapshot: &str) -> &str {
    snapshot.split(':').next().unwrap_or("0")
}

/// What changed since a snapshot, in every clinic. No tenant: the read model serves every clinic,
/// and its views are read through one.
pub fn changes(conn: &mut PgConnection, since: Option<&str>) -> QueryResult<Changes> {
    // One snapshot for every statement, so that what is read is exactly what the snapshot shows.
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        if since.is_none() {
            // The first load reads every score: more than a request's statement may take.
            diesel::sql_query("SET LOCAL statement_timeout = 0").execute(conn)?;
        }
        let snapshot = diesel::sql_query("SELECT pg_current_snapshot()::text AS snapshot")
            .get_result::<Snapshot>(conn)?
            .snapshot;
        let (treatments, scores) = match since {
            None => (
                diesel::sql_query(FACTS).load(conn)?,
                // One row per treatment and symptom keeps a large load compact.
                diesel::sql_query(
                    "SELECT treatment_id, symptom_code, array_agg(day ORDER BY day) AS days,
                            array_agg(score ORDER BY day) AS scores
                       FROM (SELECT treatment_id, symptom_code, day, max(score) AS score
                               FROM check_in_scores GROUP BY treatment_id, symptom_code, day) worst
                      GROUP BY treatment_id, symptom_code",
                )
                .load(conn)?,
            ),
            Some(since) => (
                diesel::sql_query(format!(
                    "{FACTS} WHERE t.id = ANY(ARRAY(
                         SELECT id FROM treatments WHERE {}
                         UNION SELECT t2.id FROM patients p2
                                 JOIN treatments t2 ON t2.clinic_id = p2.clinic_id AND t2.patient_id = p2.id
                                WHERE {}))",
                    new_since("treatments"),
                    new_since("p2")
                ))
                .bind::<Text, _>(since)
                .bind::<Text, _>(xmin(since))
                .load(conn)?,
                diesel::sql_query(format!(
                    "SELECT s.treatment_id, s.symptom_code, array_agg(s.day) AS days, array_agg(s.score) AS scores
                       FROM check_in_scores s
                      WHERE s.check_in_id = ANY(ARRAY(SELECT c.id FROM check_ins c WHERE {}))
                      GROUP BY s.treatment_id, s.symptom_code",
                    new_since("c")
                ))
                .bind::<Text, _>(since)
                .bind::<Text, _>(xmin(since))
                .load(conn)?,
            ),
        };
        Ok(Changes { snapshot, treatments, scores })
    })
}
