//! Recording an outcome weeks after a treatment, as the clinician or the patient assessed it.

use chrono::{NaiveDate, Utc};
use diesel::PgConnection;

use super::Error;
use super::treatments::dates;
use crate::db::{self, Tenant};
use crate::domain::codes::Assessor;
use crate::domain::ids::{OutcomeId, StaffId};
use crate::domain::outcomes::check_outcome;
use crate::domain::{Invalid, check_text};

/// An outcome as its assessor rates it.
pub struct NewOutcome {
    pub assessed_on: NaiveDate,
    pub gais: i16,
    pub satisfaction: i16,
    pub goodman_baron: Option<i16>,
    pub notes: Option<String>,
}

/// Who assesses: a clinician, or the treatment's patient.
#[derive(Clone, Copy, Debug)]
pub enum By {
    Clinician(StaffId),
    Patient,
}

/// Checks the outcome against the treatment's date and today, and stores it as `by`'s assessment,
/// replacing theirs of the same date; true when it is new.
pub fn record(
    conn: &mut PgConnection,
    tenant: Tenant,
    t: &db::treatments::Treatment,
    by: By,
    new: NewOutcome,
) -> Result<(db::outcomes::Outcome, bool), Error> {
    let (treated_on, today) = dates(conn, tenant, t)?;
    let mut invalid = Invalid::default();
    check_outcome(
        &mut invalid,
        new.gais,
        new.satisfaction,
        new.goodman_baron,
        new.assessed_on,
        treated_on,
        today,
    );
    check_text(&mut invalid, "notes", new.notes.as_deref(), 2000);
    invalid.into_result()?;
    let (assessor, recorded_by_staff) = match by {
        By::Clinician(staff_id) => (Assessor::Clinician, Some(staff_id)),
        By::Patient => (Assessor::Patient, None),
    };
    Ok(db::outcomes::upsert(
        conn,
        tenant,
        &db::outcomes::Outcome {
            id: OutcomeId::new_v4(),
            patient_id: t.patient_id,
            treatment_id: t.id,
            assessed_on: new.assessed_on,
            assessor,
            gais: new.gais,
            satisfaction: new.satisfaction,
            goodman_baron: new.goodman_baron,
            notes: new.notes,
            recorded_by_staff,
            created_at: Utc::now(),
        },
    )?)
}
