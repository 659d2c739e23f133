//! What the recovery views read: every treatment's facts and daily worst scores, either all of them
//! or only what changed since a snapshot (see migration `change_tracking`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int2, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::db::schema::check_in_scores;
use crate::domain::ids::{PatientId, ProtocolId, TreatmentId};

#[derive(Debug, Clone, QueryableByName)]
pub struct TreatmentFacts {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub clinic_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub protocol_id: ProtocolId,
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: PatientId,
    #[diesel(sql_type = Timestamptz)]
    pub performed_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    pub session_number: i32,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    pub areas: Vec<Option<crate::domain::codes::Area>>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub fitzpatrick_type: Option<i16>,
    #[diesel(sql_type = Text, deserialize_as = super::text_enum::Zone)]
    pub timezone: chrono_tz::Tz,
}

/// One symptom score of a check-in, as the read model needs it.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = check_in_scores, check_for_backend(diesel::pg::Pg))]
pub struct Score {
    pub treatment_id: TreatmentId,
    pub symptom_code: String,
    pub day: i32,
    pub score: i16,
}

#[derive(QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = Text)]
    snapshot: String,
    #[diesel(sql_type = Text)]
    timeline: String,
}

/// What a read delivers, in this order: `Begin`, then the treatments, their scores and the
/// treatments deleted.
pub enum Item {
    /// The snapshot read at, with the timeline of the server it was read on
    /// (`00000002/xmin:xmax:xip,...`), and whether this is everything rather than what changed (the
    /// treatments it lacks no longer exist).
    Begin {
        snapshot: String,
        full: bool,
    },
    Treatment(TreatmentFacts),
    Score(Score),
    /// A treatment deleted since (a patient's data erased).
    Deleted(Uuid),
}

#[derive(QueryableByName)]
struct Deleted {
    #[diesel(sql_type = SqlUuid)]
    treatment_id: TreatmentId,
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

/// The snapshot part of `since`, if it was read on `timeline`.
fn on_timeline<'a>(since: Option<&'a str>, timeline: &str) -> Option<&'a str> {
    since
        .and_then(|s| s.split_once('/'))
        .filter(|(t, _)| *t == timeline)
        .map(|(_, snapshot)| snapshot)
}

/// Reads everything new since `since` (everything, when `None`) and hands it to `each`, one item at
/// a time: a full load streams its scores (`COPY`), so it never holds them all at once.
///
/// Transaction ids compare only on one timeline. At a failover, the ids the old primary gave to
/// transactions whose WAL never reached the standby are given out again by the new primary; those
/// still running when the last snapshot was taken are in its `xip` (or past its `xmax`), so their
/// reuse reads as new, but one that rolled back just before would read as seen, and the rows of
/// the new transaction that reuses its id would be missed. So a read on a new timeline reads
/// everything again.
///
/// No tenant: the read model serves every clinic, and its views are read through one.
pub fn changes(
    conn: &mut PgConnection,
    since: Option<&str>,
    mut each: impl FnMut(Item),
) -> QueryResult<()> {
    // One snapshot for every statement, so that what is read is exactly what the snapshot shows.
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(|conn| {
            // The timeline is the first part of the current WAL file's name.
            let Snapshot { snapshot, timeline } = diesel::sql_query(
                "SELECT pg_current_snapshot()::text AS snapshot,
                    substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS timeline",
            )
            .get_result::<Snapshot>(conn)?;
            let since = on_timeline(since, &timeline);
            each(Item::Begin {
                snapshot: format!("{timeline}/{snapshot}"),
                full: since.is_none(),
            });
            match since {
                None => everything(conn, &mut each),
                Some(since) => changed(conn, since, &mut each),
            }
        })
}

fn everything(conn: &mut PgConnection, each: &mut impl FnMut(Item)) -> QueryResult<()> {
    // A full load reads every score: more than a request's statement may take.
    diesel::sql_query("SET LOCAL statement_timeout = 0").execute(conn)?;
    let treatments: Vec<TreatmentFacts> = diesel::sql_query(FACTS).load(conn)?;
    treatments
        .into_iter()
        .map(Item::Treatment)
        .for_each(&mut *each);
    for score in diesel::copy_to(check_in_scores::table).load::<Score, _>(conn)? {
        each(Item::Score(score?));
    }
    Ok(())
}

fn changed(conn: &mut PgConnection, since: &str, each: &mut impl FnMut(Item)) -> QueryResult<()> {
    let treatments: Vec<TreatmentFacts> = diesel::sql_query(format!(
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
    .load(conn)?;
    let scores: Vec<Score> = diesel::sql_query(format!(
        "SELECT s.treatment_id, s.symptom_code, s.day, s.score FROM check_in_scores s
          WHERE s.check_in_id = ANY(ARRAY(SELECT c.id FROM check_ins c WHERE {}))",
        new_since("c")
    ))
    .bind::<Text, _>(since)
    .bind::<Text, _>(xmin(since))
    .load(conn)?;
    let deleted: Vec<Deleted> = diesel::sql_query(format!(
        "SELECT treatment_id FROM treatment_deletions WHERE {}",
        new_since("treatment_deletions")
    ))
    .bind::<Text, _>(since)
    .bind::<Text, _>(xmin(since))
    .load(conn)?;
    treatments
        .into_iter()
        .map(Item::Treatment)
        .for_each(&mut *each);
    scores.into_iter().map(Item::Score).for_each(&mut *each);
    deleted
        .into_iter()
        .map(|d| Item::Deleted(d.treatment_id.uuid()))
        .for_each(each);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_counts_only_on_the_timeline_it_was_read_on() {
        let since = Some("00000001/750:760:752");
        assert_eq!(on_timeline(since, "00000001"), Some("750:760:752"));
        // After a failover the server is on the next timeline: everything is read again.
        assert_eq!(on_timeline(since, "00000002"), None);
        assert_eq!(on_timeline(None, "00000001"), None);
        // A snapshot kept from before timelines were recorded is read again too.
        assert_eq!(on_timeline(Some("750:760:752"), "00000001"), None);
    }
}
