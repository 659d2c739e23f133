//! Recording a treatment session: checked, completed from its protocol (needle depth, areas) and
//! numbered in the patient's series unless the clinician says otherwise.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::codes::{self, Area, Contraindication};
use crate::domain::ids::{PatientId, ProtocolId, StaffId, TreatmentId};
use crate::domain::schedule::local_date;
use crate::domain::treatment::{check_needle_depth, check_performed_at, check_screening};
use crate::domain::{Invalid, check_text};

/// A treatment session as the clinician describes it; what it leaves out comes from the protocol.
pub struct NewTreatment {
    pub protocol_id: ProtocolId,
    pub performed_at: DateTime<Utc>,
    pub needle_depth_mm: Option<f64>,
    pub areas: Option<Vec<Area>>,
    pub session_number: Option<i32>,
    pub contraindications: BTreeMap<Contraindication, bool>,
    pub override_reason: Option<String>,
    pub notes: Option<String>,
}

/// Checks the session's own fields (those that need no look-up) as of `now`.
pub fn check(new: &NewTreatment, now: DateTime<Utc>) -> Result<(), Error> {
    let mut invalid = Invalid::default();
    check_performed_at(&mut invalid, new.performed_at, now);
    check_screening(
        &mut invalid,
        &new.contraindications,
        new.override_reason.as_deref(),
    );
    check_text(&mut invalid, "notes", new.notes.as_deref(), 10_000);
    if let Some(depth) = new.needle_depth_mm {
        check_needle_depth(&mut invalid, "needle_depth_mm", depth);
    }
    if let Some(areas) = &new.areas {
        invalid.check(!areas.is_empty(), "areas", "must name at least one area");
    }
    if let Some(n) = new.session_number {
        invalid.check(
            (1..=50).contains(&n),
            "session_number",
            "must be from 1 to 50",
        );
    }
    Ok(invalid.into_result()?)
}

/// Stores a new treatment of the patient (checked with [`check`] first): the protocol's needle
/// depth and areas unless it gives its own, and the next session number unless it gives one. A
/// 404 for no such patient, invalid for a protocol the clinic does not have.
pub fn record(
    conn: &mut PgConnection,
    tenant: Tenant,
    staff_id: StaffId,
    patient_id: PatientId,
    new: NewTreatment,
    now: DateTime<Utc>,
) -> Result<db::treatments::Treatment, Error> {
    db::patients::get(conn, tenant, patient_id)?;
    let protocol = db::protocols::get(conn, tenant, new.protocol_id)
        .map_err(|_| Error::invalid("protocol_id", "is not a protocol of this clinic"))?;
    let session_number = match new.session_number {
        Some(n) => n,
        None => {
            db::treatments::sessions_before(
                conn,
                tenant,
                patient_id,
                protocol.id,
                new.performed_at,
            )? as i32
                + 1
        }
    };
    let areas = match &new.areas {
        Some(areas) => codes::stored(areas),
        None => protocol.areas.clone(),
    };
    let treatment = db::treatments::Treatment {
        id: TreatmentId::new_v4(),
        patient_id,
        protocol_id: protocol.id,
        performed_at: new.performed_at,
        needle_depth_mm: new.needle_depth_mm.unwrap_or(protocol.needle_depth_mm),
        areas,
        session_number,
        contraindications: serde_json::to_value(&new.contraindications)
            .map_err(|e| Error::Internal(e.into()))?,
        override_reason: new
            .override_reason
            .map(|r| crate::domain::text::trim(&r).to_string()),
        notes: new.notes,
        created_by: staff_id,
        created_at: now,
    };
    Ok(db::treatments::insert(conn, tenant, &treatment)?)
}

/// The treatment's date and today, in the clinic's time zone.
pub fn dates(
    conn: &mut PgConnection,
    tenant: Tenant,
    t: &db::treatments::Treatment,
) -> Result<(NaiveDate, NaiveDate), Error> {
    let tz = db::clinics::get(conn, tenant)?.tz()?;
    Ok((local_date(t.performed_at, tz), local_date(Utc::now(), tz)))
}
