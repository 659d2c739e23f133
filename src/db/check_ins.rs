//! Check-ins and their symptom scores, one row per score.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{check_in_scores, check_ins};
use super::{Cursor, PageRequest, Tenant};
use crate::domain::ids::{CheckInId, PatientId, ProtocolId, TreatmentId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_ins)]
pub struct CheckIn {
    pub id: CheckInId,
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub recorded_at: DateTime<Utc>,
    pub day: i32,
    pub sunscreen: Option<bool>,
    pub sun_exposure: Option<bool>,
    pub makeup: Option<bool>,
    pub exercise: Option<bool>,
    pub hot_shower: Option<bool>,
    pub note: Option<String>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_in_scores)]
pub struct ScoreRow {
    pub check_in_id: CheckInId,
    pub symptom_code: String,
    pub score: i16,
    pub treatment_id: TreatmentId,
    pub protocol_id: ProtocolId,
    pub day: i32,
}

/// A check-in with its scores.
pub type Stored = (CheckIn, Vec<ScoreRow>);

/// Stores the check-ins whose ids are not taken, in one statement, and returns the ids it stored;
/// a concurrent insert of one of these ids waits for the first. Run it in the transaction that
/// stores their scores.
pub fn insert_new(
    conn: &mut PgConnection,
    tenant: Tenant,
    rows: &[CheckIn],
) -> QueryResult<Vec<CheckInId>> {
    let clinic = check_ins::clinic_id.eq(tenant.id());
    let rows: Vec<_> = rows.iter().map(|r| (clinic, r)).collect();
    diesel::insert_into(check_ins::table)
        .values(rows)
        .on_conflict(check_ins::id)
        .do_nothing()
        .returning(check_ins::id)
        .get_results(conn)
}

/// Stores scores, in one statement.
pub fn insert_scores(
    conn: &mut PgConnection,
    tenant: Tenant,
    scores: &[ScoreRow],
) -> QueryResult<()> {
    let clinic = check_in_scores::clinic_id.eq(tenant.id());
    let scores: Vec<_> = scores.iter().map(|s| (clinic, s)).collect();
    diesel::insert_into(check_in_scores::table)
        .values(scores)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: CheckInId) -> QueryResult<Option<Stored>> {
    let check_in = check_ins::table
        .filter(
            check_ins::clinic_id
                .eq(tenant.id())
                .and(check_ins::id.eq(id)),
        )
        .select(CheckIn::as_select())
        .first(conn)
        .optional()?;
    match check_in {
        None => Ok(None),
        Some(c) => Ok(with_scores(conn, vec![c])?.pop()),
    }
}

/// A patient's check-ins, newest first, optionally of one treatment.
pub fn page_of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    treatment_id: Option<TreatmentId>,
    page: PageRequest,
) -> QueryResult<Vec<Stored>> {
    let mut query = check_ins::table
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(check_ins::patient_id.eq(patient_id))
        .select(CheckIn::as_select())
        .order((check_ins::recorded_at.desc(), check_ins::id.desc()))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(treatment_id) = treatment_id {
        query = query.filter(check_ins::treatment_id.eq(treatment_id));
    }
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            check_ins::recorded_at
                .lt(at)
                .or(check_ins::recorded_at.eq(at).and(check_ins::id.lt(id))),
        );
    }
    let rows = query.load(conn)?;
    with_scores(conn, rows)
}

/// Loads the scores of many check-ins in one query.
pub fn with_scores(conn: &mut PgConnection, check_ins: Vec<CheckIn>) -> QueryResult<Vec<Stored>> {
    let ids: Vec<CheckInId> = check_ins.iter().map(|c| c.id).collect();
    let mut scores: HashMap<CheckInId, Vec<ScoreRow>> = HashMap::new();
    for row in check_in_scores::table
        .filter(check_in_scores::check_in_id.eq_any(&ids))
        .select(ScoreRow::as_select())
        .load(conn)?
    {
        scores.entry(row.check_in_id).or_default().push(row);
    }
    Ok(check_ins
        .into_iter()
        .map(|c| {
            let s = scores.remove(&c.id).unwrap_or_default();
            (c, s)
        })
        .collect())
}

/// How many of the clinic's check-ins were recorded from `from` up to (not including) `to`.
pub fn count_recorded_between(
    conn: &mut PgConnection,
    tenant: Tenant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<i64> {
    check_ins::table
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(
            check_ins::recorded_at
                .ge(from)
                .and(check_ins::recorded_at.lt(to)),
        )
        .count()
        .get_result(conn)
}

/// The worst score of each of `codes` on each day from day 1 on, for one treatment: (symptom,
/// day, score).
pub fn daily_worst(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    codes: &[&str],
) -> QueryResult<Vec<(String, i32, i16)>> {
    use diesel::dsl::max;
    // Through check_ins, whose index finds a treatment's few check-ins.
    let rows: Vec<(String, i32, Option<i16>)> = check_in_scores::table
        .inner_join(check_ins::table)
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(check_ins::treatment_id.eq(treatment_id))
        .filter(check_in_scores::day.ge(1))
        .filter(check_in_scores::symptom_code.eq_any(codes))
        .group_by((check_in_scores::symptom_code, check_in_scores::day))
        .select((
            check_in_scores::symptom_code,
            check_in_scores::day,
            max(check_in_scores::score),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, day, score)| Some((code, day, score?)))
        .collect())
}
