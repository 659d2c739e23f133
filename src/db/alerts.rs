//! Alerts: raised in the transaction that stores the check-in, then acknowledged and resolved.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Int2, Int4, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::Tenant;
use super::schema::{alert_evidence, alerts};
use crate::domain::alerts::{Action, Level, Rule, Status};
use crate::domain::ids::{AlertId, CheckInId, PatientId, StaffId, TreatmentId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub struct Alert {
    pub id: AlertId,
    pub clinic_id: Uuid,
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub rule: Rule,
    pub level: Level,
    pub level_rank: i16,
    pub status: Status,
    pub day: i32,
    pub evidence_count: i32,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<StaffId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<StaffId>,
    pub resolution_note: Option<String>,
    pub resolution_action: Option<Action>,
}

/// An alert to raise: its rule and level, and one piece of evidence.
pub struct Raise<'a> {
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub rule: &'a str,
    pub level: &'a str,
    pub level_rank: i16,
    /// Raised at most once per treatment: not again once a clinician resolved it.
    pub once: bool,
    pub day: i32,
    pub check_in_id: Option<CheckInId>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_evidence)]
pub struct Evidence {
    pub alert_id: AlertId,
    pub check_in_id: Option<CheckInId>,
    pub day: i32,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Raised {
    #[diesel(sql_type = SqlUuid)]
    id: AlertId,
}

/// Raises alerts, or adds the evidence to the one of the same rule and treatment still open: one
/// statement per alert, however many of `raises` name it (a batch's check-ins often name the same),
/// and one for all the evidence. Returns, for each raise in order, the alert's id and whether this
/// raise made it (only the first of an alert's raises can); None when the rule is raised once per
/// treatment and its alert was resolved already.
pub fn raise_all(
    conn: &mut PgConnection,
    tenant: Tenant,
    raises: &[Raise],
) -> QueryResult<Vec<Option<(AlertId, bool)>>> {
    // The distinct alerts in order of first mention (its first raise, how many name it), and
    // which one each raise names.
    let mut groups: Vec<(usize, i32)> = vec![];
    let of_raise: Vec<usize> = raises
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let same = |&(first, _): &(usize, i32)| {
                let f: &Raise = &raises[first];
                (f.treatment_id, f.rule) == (r.treatment_id, r.rule)
            };
            match groups.iter().position(same) {
                Some(g) => {
                    groups[g].1 += 1;
                    g
                }
                None => {
                    groups.push((i, 1));
                    groups.len() - 1
                }
            }
        })
        .collect();
    let alerts = groups
        .iter()
        .map(|&(first, pieces)| upsert(conn, tenant, &raises[first], pieces))
        .collect::<QueryResult<Vec<_>>>()?;
    let evidence: Vec<_> = raises
        .iter()
        .zip(&of_raise)
        .filter_map(|(r, &a)| {
            let (id, _) = alerts[a]?;
            Some((
                alert_evidence::alert_id.eq(id),
                alert_evidence::check_in_id.eq(r.check_in_id),
                alert_evidence::day.eq(r.day),
                alert_evidence::detail.eq(&r.detail),
            ))
        })
        .collect();
    if !evidence.is_empty() {
        diesel::insert_into(alert_evidence::table)
            .values(&evidence)
            .execute(conn)?;
    }
    Ok(of_raise
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            let (id, new) = alerts[a]?;
            Some((id, new && groups[a].0 == i))
        })
        .collect())
}

/// Raises one alert with `pieces` of evidence, or adds them to the open one.
fn upsert(
    conn: &mut PgConnection,
    tenant: Tenant,
    r: &Raise,
    pieces: i32,
) -> QueryResult<Option<(AlertId, bool)>> {
    let new_id = AlertId::new_v4();
    let raised = diesel::sql_query(
        "INSERT INTO alerts (id, clinic_id, patient_id, treatment_id, rule, level, level_rank, day,
                             evidence_count)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $10
         WHERE NOT $9 OR NOT EXISTS
           (SELECT 1 FROM alerts WHERE treatment_id = $4 AND rule = $5 AND status = 'resolved'
              AND resolved_by IS NOT NULL)
         ON CONFLICT (treatment_id, rule) WHERE status <> 'resolved'
         DO UPDATE SET evidence_count = alerts.evidence_count + $10
         RETURNING id",
    )
    .bind::<SqlUuid, _>(new_id)
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<SqlUuid, _>(r.patient_id)
    .bind::<SqlUuid, _>(r.treatment_id)
    .bind::<Text, _>(r.rule)
    .bind::<Text, _>(r.level)
    .bind::<Int2, _>(r.level_rank)
    .bind::<Int4, _>(r.day)
    .bind::<Bool, _>(r.once)
    .bind::<Int4, _>(pieces)
    .get_result::<Raised>(conn)
    .optional()?;
    Ok(raised.map(|r| (r.id, r.id == new_id)))
}

/// The alerts a check-in raised or added its evidence to.
pub fn of_check_in(
    conn: &mut PgConnection,
    tenant: Tenant,
    check_in_id: CheckInId,
) -> QueryResult<Vec<Alert>> {
    alerts::table
        .inner_join(alert_evidence::table)
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alert_evidence::check_in_id.eq(check_in_id))
        .select(Alert::as_select())
        .order((alerts::level_rank, alerts::raised_at))
        .load(conn)
}

/// The most recent evidence of an alert, newest last.
pub fn evidence(
    conn: &mut PgConnection,
    tenant: Tenant,
    alert_id: AlertId,
    most: i64,
) -> QueryResult<Vec<Evidence>> {
    let mut rows: Vec<Evidence> = alert_evidence::table
        .inner_join(alerts::table)
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alert_evidence::alert_id.eq(alert_id))
        .select(Evidence::as_select())
        .order(alert_evidence::created_at.desc())
        .limit(most)
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: AlertId) -> QueryResult<Alert> {
    alerts::table
        .filter(alerts::clinic_id.eq(tenant.id()).and(alerts::id.eq(id)))
        .select(Alert::as_select())
        .first(conn)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub level: Option<String>,
    pub patient_id: Option<PatientId>,
}

/// Where a page of the queue starts: after this (level rank, raised at, id).
pub type QueueCursor = (i16, DateTime<Utc>, Uuid);

/// The queue: urgent first, then oldest first.
pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    filter: &Filter,
    after: Option<QueueCursor>,
    limit: i64,
) -> QueryResult<Vec<Alert>> {
    let mut query = alerts::table
        .filter(alerts::clinic_id.eq(tenant.id()))
        .select(Alert::as_select())
        .order((alerts::level_rank, alerts::raised_at, alerts::id))
        .limit(limit + 1)
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(alerts::status.eq(status.clone()));
    }
    if let Some(level) = &filter.level {
        query = query.filter(alerts::level.eq(level.clone()));
    }
    if let Some(patient_id) = filter.patient_id {
        query = query.filter(alerts::patient_id.eq(patient_id));
    }
    if let Some((rank, at, id)) = after {
        query = query.filter(
            alerts::level_rank
                .gt(rank)
                .or(alerts::level_rank.eq(rank).and(
                    alerts::raised_at
                        .gt(at)
                        .or(alerts::raised_at.eq(at).and(alerts::id.gt(id))),
                )),
        );
    }
    query.load(conn)
}

/// Marks an open alert acknowledged; an acknowledged one stays as it was.
pub fn acknowledge(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    by: StaffId,
    now: DateTime<Utc>,
) -> QueryResult<Option<Alert>> {
    diesel::update(
        alerts::table
            .filter(alerts::clinic_id.eq(tenant.id()).and(alerts::id.eq(id)))
            .filter(alerts::status.eq("open")),
    )
    .set((
        alerts::status.eq("acknowledged"),
        alerts::acknowledged_at.eq(now),
        alerts::acknowledged_by.eq(by),
    ))
    .returning(Alert::as_returning())
    .get_result(conn)
    .optional()
}

/// Resolves an alert that is not resolved yet.
pub fn resolve(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    by: StaffId,
    note: &str,
    action: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Alert>> {
    diesel::update(
        alerts::table
            .filter(alerts::clinic_id.eq(tenant.id()).and(alerts::id.eq(id)))
            .filter(alerts::status.ne("resolved")),
    )
    .set((
        alerts::status.eq("resolved"),
        alerts::resolved_at.eq(now),
        alerts::resolved_by.eq(by),
        alerts::resolution_note.eq(note),
        alerts::resolution_action.eq(action),
    ))
    .returning(Alert::as_returning())
    .get_result(conn)
    .optional()
}

/// The open alerts of `rule` in the clinic, as (alert, treatment).
pub fn open_of_rule(
    conn: &mut PgConnection,
    tenant: Tenant,
    rule: &str,
) -> QueryResult<Vec<(AlertId, Uuid)>> {
    alerts::table
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alerts::rule.eq(rule).and(alerts::status.ne("resolved")))
        .select((alerts::id, alerts::treatment_id))
        .load(conn)
}

/// Resolves an open alert on the service's behalf (nobody's, `resolved_by` empty): what it said
/// is no longer so. A withdrawn alert does not stop its rule being raised again.
pub fn withdraw(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    note: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Alert>> {
    diesel::update(
        alerts::table
            .filter(alerts::clinic_id.eq(tenant.id()).and(alerts::id.eq(id)))
            .filter(alerts::status.ne("resolved")),
    )
    .set((
        alerts::status.eq("resolved"),
        alerts::resolved_at.eq(now),
        alerts::resolution_note.eq(note),
    ))
    .returning(Alert::as_returning())
    .get_result(conn)
    .optional()
}

#[derive(QueryableByName)]
struct LatestEvidence {
    #[diesel(sql_type = SqlUuid)]
    alert_id: AlertId,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    check_in_id: Option<CheckInId>,
    #[diesel(sql_type = Int4)]
    day: i32,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    detail: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: DateTime<Utc>,
}

/// The latest evidence of each of these alerts, in one query.
pub fn latest_evidence(
    conn: &mut PgConnection,
    tenant: Tenant,
    alert_ids: &[AlertId],
) -> QueryResult<Vec<Evidence>> {
    Ok(diesel::sql_query(
        "SELECT DISTINCT ON (e.alert_id) e.alert_id, e.check_in_id, e.day, e.detail, e.created_at
           FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id
          WHERE a.clinic_id = $1 AND e.alert_id = ANY($2)
          ORDER BY e.alert_id, e.created_at DESC",
    )
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(alert_ids)
    .load::<LatestEvidence>(conn)?
    .into_iter()
    .map(|e| Evidence {
        alert_id: e.alert_id,
        check_in_id: e.check_in_id,
        day: e.day,
        detail: e.detail,
        created_at: e.created_at,
    })
    .collect())
}

/// Whether an alert of this rule for this treatment already holds this evidence.
pub fn has_evidence(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    rule: &str,
    detail: &serde_json::Value,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        alerts::table
            .inner_join(alert_evidence::table)
            .filter(alerts::clinic_id.eq(tenant.id()))
            .filter(alerts::treatment_id.eq(treatment_id))
            .filter(alerts::rule.eq(rule))
            .filter(alert_evidence::detail.eq(detail)),
    ))
    .get_result(conn)
}

#[derive(QueryableByName)]
struct Weeks {
    #[diesel(sql_type = diesel::sql_types::Double)]
    weeks: f64,
}

/// Patient-weeks in follow-up between `from` and `to`: each treatment counts from its time to the
/// end of its protocol's last check-in day, as far as that overlaps the period.
pub fn patient_weeks(
    conn: &mut PgConnection,
    tenant: Tenant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<f64> {
    let row: Weeks = diesel::sql_query(
        "SELECT coalesce(sum(extract(epoch FROM
                    least($3, t.performed_at + make_interval(days => f.last + 1))
                    - greatest($2, t.performed_at))), 0)::float8 / 604800 AS weeks
           FROM treatments t
           JOIN protocols p ON p.id = t.protocol_id AND p.clinic_id = t.clinic_id
          CROSS JOIN LATERAL (SELECT coalesce(max(d), 0) AS last FROM unnest(p.check_in_days) d) f
          WHERE t.clinic_id = $1 AND t.performed_at < $3
            AND t.performed_at + make_interval(days => f.last + 1) > $2",
    )
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<diesel::sql_types::Timestamptz, _>(from)
    .bind::<diesel::sql_types::Timestamptz, _>(to)
    .get_result(conn)?;
    Ok(row.weeks)
}

/// The alerts raised between `from` and `to`, as (rule, status, resolution action).
pub fn raised_between(
    conn: &mut PgConnection,
    tenant: Tenant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    alerts::table
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alerts::raised_at.ge(from).and(alerts::raised_at.lt(to)))
        .select((alerts::rule, alerts::status, alerts::resolution_action))
        .load(conn)
}
