//! Raising an alert (the one way the check-in path and the missed check-ins job raise one, announce
//! it to the clinic's webhooks and count it) and resolving one.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::alerts::{Action, Level, Rule, Status};
use crate::domain::ids::{AlertId, CheckInId, PatientId, StaffId, TreatmentId};
use crate::domain::webhooks::{AlertData, Event};

/// An alert a check-in raised, or added its evidence to.
#[derive(Debug, Clone)]
pub struct AlertRef {
    pub id: Uuid,
    pub rule: Rule,
    pub level: Level,
}

/// What an alert is raised on: a treatment's day, the check-in if one raised it, and the evidence.
pub struct Occasion {
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
    pub day: i32,
    pub check_in_id: Option<CheckInId>,
    pub detail: serde_json::Value,
}

/// Raises each rule on its treatment, or adds the evidence to its open alert (one statement per
/// alert, however many check-ins of a batch name it). A new alert is announced in the same
/// transaction. Returns, for each raise in order, its alert; None when the rule is raised once per
/// treatment and its alert was resolved already.
pub fn raise_all(
    conn: &mut PgConnection,
    tenant: Tenant,
    raises: Vec<(Rule, Occasion)>,
) -> Result<Vec<Option<AlertRef>>, Error> {
    let rows: Vec<db::alerts::Raise> = raises
        .iter()
        .map(|(rule, on)| db::alerts::Raise {
            patient_id: on.patient_id,
            treatment_id: on.treatment_id,
            rule: rule.as_str(),
            level: rule.level().as_str(),
            level_rank: rule.level().rank(),
            once: rule.once_per_treatment(),
            day: on.day,
            check_in_id: on.check_in_id,
            detail: on.detail.clone(),
        })
        .collect();
    let raised = db::alerts::raise_all(conn, tenant, &rows)?;
    let mut announced = vec![];
    let refs = raises
        .iter()
        .zip(raised)
        .map(|((rule, on), raised)| {
            let (id, new) = raised?;
            let level = rule.level();
            if new {
                announced.push(Event::AlertRaised(AlertData {
                    id: id.uuid(),
                    rule: *rule,
                    level,
                    patient_id: on.patient_id.uuid(),
                    treatment_id: on.treatment_id.uuid(),
                    day: on.day,
                }));
            }
            crate::web::metrics::METRICS
                .alerts_raised
                .with_label_values(&[level.as_str()])
                .inc();
            Some(AlertRef {
                id: id.uuid(),
                rule: *rule,
                level,
            })
        })
        .collect();
    if !announced.is_empty() {
        db::webhooks::enqueue_all(conn, tenant, &announced)?;
    }
    Ok(refs)
}

/// Raises one rule on its treatment, as `raise_all`.
pub fn raise(
    conn: &mut PgConnection,
    tenant: Tenant,
    rule: Rule,
    on: Occasion,
) -> Result<Option<AlertRef>, Error> {
    Ok(raise_all(conn, tenant, vec![(rule, on)])?.pop().flatten())
}

/// Acknowledges the alert as `staff_id`'s: someone is on it. Acknowledging it again changes
/// nothing; a 404 for no such alert, a 409 when it is resolved.
pub fn acknowledge(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    staff_id: StaffId,
) -> Result<db::alerts::Alert, Error> {
    if let Some(alert) = db::alerts::acknowledge(conn, tenant, id, staff_id, Utc::now())? {
        return Ok(alert);
    }
    let alert = db::alerts::get(conn, tenant, id)?;
    if alert.status == Status::Resolved {
        return Err(Error::Conflict("the alert is resolved already".into()));
    }
    Ok(alert)
}

/// Resolves the alert, with what it led to when the clinician said, and announces it to the clinic's webhooks in one transaction; a 404 for no
/// such alert, a 409 when it is resolved already.
pub fn resolve(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    staff_id: StaffId,
    note: &str,
    action: Option<Action>,
) -> Result<db::alerts::Alert, Error> {
    let action = action.map(Action::as_str);
    conn.transaction(|conn| {
        match db::alerts::resolve(conn, tenant, id, staff_id, note, action, Utc::now())? {
            Some(alert) => {
                db::webhooks::enqueue(conn, tenant, &Event::AlertResolved(data(&alert)))?;
                Ok(alert)
            }
            None => {
                db::alerts::get(conn, tenant, id)?;
                Err(Error::Conflict("the alert is resolved already".into()))
            }
        }
    })
}

/// Withdraws an open alert whose finding no longer holds, with why, and announces it to the
/// clinic's webhooks as resolved. False when it was resolved meanwhile.
pub fn withdraw(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: AlertId,
    why: &str,
) -> Result<bool, Error> {
    let Some(alert) = db::alerts::withdraw(conn, tenant, id, why, Utc::now())? else {
        return Ok(false);
    };
    db::webhooks::enqueue(conn, tenant, &Event::AlertResolved(data(&alert)))?;
    Ok(true)
}

/// What a webhook hears of an alert.
fn data(a: &db::alerts::Alert) -> AlertData {
    AlertData {
        id: a.id.uuid(),
        rule: a.rule,
        level: a.level,
        patient_id: a.patient_id.uuid(),
        treatment_id: a.treatment_id.uuid(),
        day: a.day,
    }
}
