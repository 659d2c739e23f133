//! The alert queue: what the rules raised, urgent first, and a clinician's acknowledgement and
//! resolution of each.

use actix_web::{HttpRequest, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Json, MAX_PAGE, Page};
use crate::db::alerts::{Filter, QueueCursor};
use crate::db::{self, Pool};
use crate::domain::alerts::{Action, Level, Rule, Status};
use crate::domain::ids::{AlertId, PatientId, StaffId};
use crate::domain::{Invalid, check_text};
use crate::error::{ApiError, FieldError};
use crate::services;
use crate::web::auth::Caller;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AlertEvent)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Raised,
    Acknowledged,
    Resolved,
    /// Resolved by the service, not a clinician, because what it said no longer holds (a
    /// `slower_than_peers` alert whose treatment is no longer slower than usual); `note` says why.
    Withdrawn,
}

/// One step of an alert's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub event: Event,
    pub at: DateTime<Utc>,
    /// The staff member, for acknowledgement and resolution.
    pub by: Option<Uuid>,
    pub note: Option<String>,
    /// On resolution: what it led to, when the clinician said.
    pub action: Option<Action>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub rule: Rule,
    pub level: Level,
    pub status: Status,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    /// Days since the treatment when it was raised.
    pub day: i32,
    /// How many check-ins (or runs of missed days) met the rule while the alert was open.
    pub evidence_count: i32,
    /// What met the rule, oldest first: the latest item in the queue, up to 100 for one alert.
    pub evidence: Vec<EvidenceItem>,
    pub history: Vec<HistoryEntry>,
}

/// One check-in that met the rule, with the scores that did; or the scheduled days that were missed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceItem {
    pub check_in_id: Option<Uuid>,
    pub day: i32,
    /// `{code: score}`, or `{"missed_days": [d, d]}`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl From<db::alerts::Evidence> for EvidenceItem {
    fn from(e: db::alerts::Evidence) -> Self {
        EvidenceItem {
            check_in_id: e.check_in_id.map(Uuid::from),
            day: e.day,
            detail: e.detail,
            at: e.created_at,
        }
    }
}

pub(super) fn with_evidence(a: db::alerts::Alert, evidence: Vec<db::alerts::Evidence>) -> Alert {
    Alert {
        evidence: evidence.into_iter().map(EvidenceItem::from).collect(),
        ..Alert::from(a)
    }
}

impl From<db::alerts::Alert> for Alert {
    fn from(a: db::alerts::Alert) -> Self {
        let mut history = vec![HistoryEntry {
            event: Event::Raised,
            at: a.raised_at,
            by: None,
            note: None,
            action: None,
        }];
        if let Some(at) = a.acknowledged_at {
            history.push(HistoryEntry {
                event: Event::Acknowledged,
                at,
                by: a.acknowledged_by.map(StaffId::uuid),
                note: None,
                action: None,
            });
        }
        if let Some(at) = a.resolved_at {
            history.push(HistoryEntry {
                event: match a.resolved_by {
                    Some(_) => Event::Resolved,
                    None => Event::Withdrawn,
                },
                at,
                by: a.resolved_by.map(StaffId::uuid),
                note: a.resolution_note,
                action: a.resolution_action,
            });
        }
        Alert {
            id: a.id.uuid(),
            rule: a.rule,
            level: a.level,
            status: a.status,
            patient_id: a.patient_id.uuid(),
            treatment_id: a.treatment_id.uuid(),
            day: a.day,
            evidence_count: a.evidence_count,
            evidence: vec![],
            history,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts in this state; by default, all.
    pub status: Option<Status>,
    /// Only alerts of this level; by default, all.
    pub level: Option<Level>,
    /// Only this patient's alerts.
    pub patient_id: Option<Uuid>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn encode(c: QueueCursor) -> String {
    crate::db::cursor_token(&format!("{}.{}.{}", c.0, c.1.timestamp_micros(), c.2))
}

fn decode(s: &str) -> Option<QueueCursor> {
    let text = crate::db::cursor_text(s)?;
    let mut parts = text.splitn(3, '.');
    let rank = parts.next()?.parse().ok()?;
    let at = crate::db::cursor_time(parts.next()?)?;
    Some((rank, at, parts.next()?.parse().ok()?))
}

/// The alert queue of the clinic: urgent first, then oldest first.
#[utoipa::path(
    tag = "alerts",
    params(AlertQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of alerts", body = Page<Alert>))
)]
#[get("/v1/alerts")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    query: web::Query<AlertQuery>,
    req: HttpRequest,
) -> Result<web::Json<Page<Alert>>, ApiError> {
    let q = query.into_inner();
    let (limit, after) = page_request(&q)?;
    let filter = Filter {
        status: q.status.map(|s| s.as_str().to_string()),
        level: q.level.map(|l| l.as_str().to_string()),
        patient_id: q.patient_id.map(PatientId::from),
    };
    let (rows, evidence) = db::run(&pool, move |conn| {
        let rows = db::alerts::page(conn, caller.tenant, &filter, after, limit)?;
        let ids: Vec<AlertId> = rows.iter().map(|a| a.id).collect();
        Ok::<_, ApiError>((
            rows,
            db::alerts::latest_evidence(conn, caller.tenant, &ids)?,
        ))
    })
    .await?;
    let page = page(rows, evidence, limit);
    crate::api::trail::shown(&req, page.items.iter().map(|a| a.patient_id));
    Ok(web::Json(page))
}

/// The query's page size and the cursor to continue after, or a 400 naming what is not valid.
fn page_request(q: &AlertQuery) -> Result<(i64, Option<QueueCursor>), ApiError> {
    let limit = q.limit.unwrap_or(50);
    let after = q.cursor.as_deref().map(|c| decode(c).ok_or(())).transpose();
    let mut errors = vec![];
    if !(1..=MAX_PAGE).contains(&limit) {
        errors.push(FieldError::new("limit", "must be from 1 to 200"));
    }
    if after.is_err() {
        errors.push(FieldError::new(
            "cursor",
            "is not a cursor this API gave out",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(
            "the query parameters are not valid".into(),
            errors,
        ));
    }
    Ok((limit, after.ok().flatten()))
}

/// A page of at most `limit` alerts, each with its latest evidence, from up to `limit + 1` rows:
/// the extra row means there is a next page.
fn page(
    mut rows: Vec<db::alerts::Alert>,
    evidence: Vec<db::alerts::Evidence>,
    limit: i64,
) -> Page<Alert> {
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|a| encode((a.level_rank, a.raised_at, a.id.uuid())))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|a| {
            let latest = evidence
                .iter()
                .filter(|e| e.alert_id == a.id)
                .cloned()
                .collect();
            with_evidence(a, latest)
        })
        .collect();
    Page {
        items,
        next_cursor: next,
    }
}

/// One alert, with its evidence and history.
#[utoipa::path(
    tag = "alerts",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The alert", body = Alert))
)]
#[get("/v1/alerts/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Alert>, ApiError> {
    let id = AlertId::from(id.into_inner());
    let (alert, evidence) = db::run(&pool, move |conn| {
        let alert = db::alerts::get(conn, caller.tenant, id)?;
        let evidence = db::alerts::evidence(conn, caller.tenant, alert.id, 100)?;
        Ok::<_, ApiError>((alert, evidence))
    })
    .await?;
    Ok(web::Json(with_evidence(alert, evidence)))
}

/// Acknowledge an alert: someone is on it. Acknowledging it again changes nothing.
#[utoipa::path(
    tag = "alerts",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The acknowledged alert", body = Alert),
        (status = 409, description = "The alert is resolved", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/alerts/{id}/acknowledge")]
pub async fn acknowledge(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Alert>, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let id = AlertId::from(id.into_inner());
    let alert = db::run(&pool, move |conn| {
        services::alerts::acknowledge(conn, caller.tenant, id, staff_id)
    })
    .await?;
    Ok(web::Json(alert.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Called the patient: mild redness, reassured; review photo tomorrow.", "action": "contacted_patient"}))]
pub struct ResolveRequest {
    /// What was done: not blank, at most 2000 characters.
    #[schema(max_length = 2000, pattern = r"\S")]
    pub note: String,
    /// What the alert led to: the patient contacted or seen, the treatment changed, or no action
    /// needed. Optional, so that older clients keep working; the clinic's alert burden counts it.
    pub action: Option<Action>,
}

/// Resolve an alert, saying what was done.
#[utoipa::path(
    tag = "alerts",
    params(("id" = Uuid, Path)),
    request_body = ResolveRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resolved alert", body = Alert),
        (status = 409, description = "The alert is resolved already", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/alerts/{id}/resolve")]
pub async fn resolve(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<ResolveRequest>,
) -> Result<web::Json<Alert>, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let id = AlertId::from(id.into_inner());
    let mut invalid = Invalid::default();
    invalid.check(
        !crate::domain::text::is_blank(&req.note),
        "note",
        "must say what was done",
    );
    check_text(&mut invalid, "note", Some(&req.note), 2000);
    invalid.into_result()?;
    let alert = db::run(&pool, move |conn| {
        services::alerts::resolve(
            conn,
            caller.tenant,
            id,
            staff_id,
            crate::domain::text::trim(&req.note),
            req.action,
        )
    })
    .await?;
    Ok(web::Json(alert.into()))
}

/// One rule's share of the clinic's alerts (or all rules together).
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleBurden {
    /// Null for the figures of all rules together.
    pub rule: Option<Rule>,
    /// The rule's level; null for all rules together.
    pub level: Option<Level>,
    /// Alerts raised in the period.
    pub alerts: u32,
    /// Alerts per 100 patient-weeks in follow-up; null when no patient was in follow-up.
    pub per_100_patient_weeks: Option<f64>,
    /// Of those alerts, the ones resolved so far.
    pub resolved: u32,
    /// Resolved saying the patient was contacted or seen, or the treatment changed.
    pub led_to_action: u32,
    /// Resolved saying no action was needed.
    pub no_action: u32,
    /// `led_to_action` / (`led_to_action` + `no_action`): the share of resolved alerts that led
    /// to an action, among those that said; null before any did.
    pub action_share: Option<f64>,
}

impl RuleBurden {
    fn new(rule: Option<Rule>, b: crate::domain::alerts::Burden) -> RuleBurden {
        RuleBurden {
            rule,
            level: rule.map(Rule::level),
            alerts: b.alerts,
            per_100_patient_weeks: b.per_100_patient_weeks.map(|r| (r * 100.0).round() / 100.0),
            resolved: b.resolved,
            led_to_action: b.led_to_action,
            no_action: b.no_action,
            action_share: b.action_share().map(|s| (s * 1000.0).round() / 1000.0),
        }
    }
}

/// The clinic's alert burden over the last 30 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertBurden {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Patient-weeks in follow-up in the period: each treatment from its time to the end of its
    /// protocol's last check-in day.
    pub patient_weeks: f64,
    /// Every rule, in the order of the rules' table, those without alerts too.
    pub rules: Vec<RuleBurden>,
    pub all: RuleBurden,
}

/// The clinic's alert burden: for the alerts raised in the last 30 days, how many per 100
/// patient-weeks in follow-up, per rule, and the share of resolved alerts that led to an action.
/// A rule whose alerts rarely lead to action is the one to look at first.
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    responses((status = 200, description = "The last 30 days' alert burden", body = AlertBurden))
)]
#[get("/v1/alerts/burden")]
pub async fn burden(
    pool: web::Data<Pool>,
    caller: Caller,
) -> Result<web::Json<AlertBurden>, ApiError> {
    let to = Utc::now();
    let from = to - chrono::Duration::days(30);
    let (weeks, rows) = db::run(&pool, move |conn| {
        Ok::<_, ApiError>((
            db::alerts::patient_weeks(conn, caller.tenant, from, to)?,
            db::alerts::raised_between(conn, caller.tenant, from, to)?,
        ))
    })
    .await?;
    let alerts = rows.iter().filter_map(|(rule, status, action)| {
        let action = action
            .as_deref()
            .map(|a| Action::parse(a).ok_or(a))
            .transpose();
        match (Rule::parse(rule), action) {
            (Some(rule), Ok(action)) => Some((rule, status == "resolved", action)),
            _ => {
                tracing::error!(
                    rule,
                    "an alert row holds a rule or action this build does not know"
                );
                None
            }
        }
    });
    let (rules, all) = crate::domain::alerts::burden(alerts, weeks);
    Ok(web::Json(AlertBurden {
        from,
        to,
        patient_weeks: (weeks * 100.0).round() / 100.0,
        rules: rules
            .into_iter()
            .map(|(rule, b)| RuleBurden::new(Some(rule), b))
            .collect(),
        all: RuleBurden::new(None, all),
    }))
}
