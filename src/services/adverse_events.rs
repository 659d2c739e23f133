//! Recording a complication (adverse event) of a treatment, announced to the clinic's webhooks in
//! the same transaction, and changing one as its course becomes known.

use chrono::{NaiveDate, Utc};
use diesel::{Connection, PgConnection};

use super::Error;
use super::treatments::dates;
use crate::db::{self, Tenant};
use crate::domain::codes::AdverseOutcome;
use crate::domain::ids::{AdverseEventId, StaffId, TreatmentId};
use crate::domain::outcomes::check_adverse_event;
use crate::domain::webhooks::{AdverseEventData, Event};
use crate::domain::{Invalid, check_text};

/// A complication as the clinician describes it.
pub struct Complication {
    pub term: String,
    pub grade: i16,
    pub serious: bool,
    pub onset_date: NaiveDate,
    pub outcome: AdverseOutcome,
    pub notes: Option<String>,
}

/// Checks the complication against the treatment's date and today, and stores it with its webhook
/// event in one transaction. A 404 when the clinic has no such treatment.
pub fn record(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    treatment_id: TreatmentId,
    c: Complication,
) -> Result<db::adverse_events::AdverseEvent, Error> {
    let t = db::treatments::get(conn, tenant, treatment_id)?;
    let (treated_on, today) = dates(conn, tenant, &t)?;
    let mut invalid = Invalid::default();
    check_adverse_event(
        &mut invalid,
        Some(&c.term),
        Some(c.grade),
        Some(c.onset_date),
        treated_on,
        today,
    );
    check_text(&mut invalid, "notes", c.notes.as_deref(), 10_000);
    invalid.into_result()?;
    let now = Utc::now();
    let row = db::adverse_events::AdverseEvent {
        id: AdverseEventId::new_v4(),
        patient_id: t.patient_id,
        treatment_id,
        term: crate::domain::text::trim(&c.term).to_string(),
        grade: c.grade,
        serious: c.serious,
        onset_date: c.onset_date,
        outcome: c.outcome,
        notes: c.notes,
        recorded_by: staff_id,
        created_at: now,
        updated_at: now,
    };
    conn.transaction(|conn| {
        let event = db::adverse_events::insert(conn, tenant, &row)?;
        let data = AdverseEventData {
            id: event.id.uuid(),
            patient_id: event.patient_id.uuid(),
            treatment_id: event.treatment_id.uuid(),
            grade: event.grade,
            serious: event.serious,
        };
        db::webhooks::enqueue(conn, tenant, &Event::AdverseEventRecorded(data))?;
        Ok(event)
    })
}

/// Checks the changes against the treatment's date and today, and applies them. A 404 when the
/// treatment has no such complication.
pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    id: AdverseEventId,
    changes: db::adverse_events::Changes,
) -> Result<db::adverse_events::AdverseEvent, Error> {
    let t = db::treatments::get(conn, tenant, treatment_id)?;
    db::adverse_events::get(conn, tenant, treatment_id, id)?;
    let (treated_on, today) = dates(conn, tenant, &t)?;
    let mut invalid = Invalid::default();
    check_adverse_event(
        &mut invalid,
        changes.term.as_deref(),
        changes.grade,
        changes.onset_date,
        treated_on,
        today,
    );
    check_text(
        &mut invalid,
        "notes",
        changes.notes.as_ref().and_then(|n| n.as_deref()),
        10_000,
    );
    invalid.into_result()?;
    let row = db::adverse_events::Changes {
        term: changes
            .term
            .map(|t| crate::domain::text::trim(&t).to_string()),
        updated_at: Some(Utc::now()),
        ..changes
    };
    Ok(db::adverse_events::update(
        conn,
        tenant,
        treatment_id,
        id,
        &row,
    )?)
}
