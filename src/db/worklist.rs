//! What the worklist reads and writes beside the alerts: the patients' notes nobody has read, the
//! cards clinicians took, and the facts a card shows of its treatment and patient.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::Tenant;
use super::alerts::Alert;
use super::schema::{
    alert_evidence, alerts, card_assignments, check_ins, note_reads, patients, staff, treatments,
};
use crate::domain::ids::{AlertId, CheckInId, PatientId, ProtocolId, StaffId, TreatmentId};

/// How many unread notes and open alerts one worklist shows at the most.
pub const MAX_ITEMS: i64 = 1000;

/// A check-in's note that no clinician has marked read.
#[derive(Debug, Clone, Queryable)]
pub struct UnreadNote {
    pub check_in_id: CheckInId,
    pub treatment_id: TreatmentId,
    pub recorded_at: DateTime<Utc>,
    pub day: i32,
    pub note: Option<String>,
}

/// The clinic's notes not read yet, oldest first.
pub fn unread_notes(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<UnreadNote>> {
    check_ins::table
        .left_join(note_reads::table)
        .filter(check_ins::clinic_id.eq(tenant.id()))
        .filter(check_ins::note.is_not_null())
        .filter(note_reads::check_in_id.nullable().is_null())
        .order((check_ins::recorded_at, check_ins::id))
        .limit(MAX_ITEMS)
        .select((
            check_ins::id,
            check_ins::treatment_id,
            check_ins::recorded_at,
            check_ins::day,
            check_ins::note,
        ))
        .load(conn)
}

/// The clinic's alerts not resolved yet, urgent first.
pub fn open_alerts(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<Alert>> {
    alerts::table
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alerts::status.ne("resolved"))
        .order((alerts::level_rank, alerts::raised_at, alerts::id))
        .limit(MAX_ITEMS)
        .select(Alert::as_select())
        .load(conn)
}

/// When the patient reported what each alert holds: its earliest check-in's time, for the alerts
/// raised by check-ins.
pub fn reported_at(
    conn: &mut PgConnection,
    alert_ids: &[AlertId],
) -> QueryResult<Vec<(AlertId, Option<DateTime<Utc>>)>> {
    alert_evidence::table
        .inner_join(check_ins::table)
        .filter(alert_evidence::alert_id.eq_any(alert_ids))
        .group_by(alert_evidence::alert_id)
        .select((
            alert_evidence::alert_id,
            diesel::dsl::min(check_ins::recorded_at),
        ))
        .load(conn)
}

/// What a card shows of its treatment and patient.
#[derive(Debug, Clone, Queryable)]
pub struct CardFacts {
    pub treatment_id: TreatmentId,
    pub protocol_id: ProtocolId,
    pub performed_at: DateTime<Utc>,
    pub patient_id: PatientId,
    pub external_ref: String,
    pub display_name: Option<String>,
    pub contact_phone: Option<String>,
}

pub fn card_facts(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
) -> QueryResult<Vec<CardFacts>> {
    treatments::table
        .inner_join(
            patients::table.on(patients::id
                .eq(treatments::patient_id)
                .and(patients::clinic_id.eq(treatments::clinic_id))),
        )
        .filter(treatments::clinic_id.eq(tenant.id()))
        .filter(treatments::id.eq_any(treatment_ids))
        .select((
            treatments::id,
            treatments::protocol_id,
            treatments::performed_at,
            patients::id,
            patients::external_ref,
            patients::display_name,
            patients::contact_phone,
        ))
        .load(conn)
}

/// Who took a card, and when.
#[derive(Debug, Clone, Queryable)]
pub struct Assignment {
    pub treatment_id: TreatmentId,
    pub staff_id: StaffId,
    pub name: String,
    pub assigned_at: DateTime<Utc>,
}

pub fn assignments(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
) -> QueryResult<Vec<Assignment>> {
    card_assignments::table
        .inner_join(
            staff::table.on(staff::id
                .eq(card_assignments::staff_id)
                .and(staff::clinic_id.eq(card_assignments::clinic_id))),
        )
        .filter(card_assignments::clinic_id.eq(tenant.id()))
        .filter(card_assignments::treatment_id.eq_any(treatment_ids))
        .select((
            card_assignments::treatment_id,
            card_assignments::staff_id,
            staff::name,
            card_assignments::assigned_at,
        ))
        .load(conn)
}

/// Gives the treatment's card to `staff_id`, taking it from whoever had it.
pub fn assign(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(card_assignments::table)
        .values((
            card_assignments::treatment_id.eq(treatment_id),
            card_assignments::clinic_id.eq(tenant.id()),
            card_assignments::staff_id.eq(staff_id),
            card_assignments::assigned_at.eq(now),
        ))
        .on_conflict(card_assignments::treatment_id)
        .do_update()
        .set((
            card_assignments::staff_id.eq(staff_id),
            card_assignments::assigned_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Puts the treatment's card back for anyone to take.
pub fn release(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_id: TreatmentId,
) -> QueryResult<()> {
    diesel::delete(
        card_assignments::table
            .filter(card_assignments::clinic_id.eq(tenant.id()))
            .filter(card_assignments::treatment_id.eq(treatment_id)),
    )
    .execute(conn)
    .map(drop)
}

/// Marks a check-in's note read by `staff_id`; a note read before keeps its first reader. Returns
/// when it was read and by whom; None when the clinic has no such check-in with a note.
pub fn mark_read(
    conn: &mut PgConnection,
    tenant: Tenant,
    check_in_id: CheckInId,
    staff_id: StaffId,
    now: DateTime<Utc>,
) -> QueryResult<Option<(StaffId, DateTime<Utc>)>> {
    let has_note: bool = diesel::select(diesel::dsl::exists(
        check_ins::table
            .filter(check_ins::clinic_id.eq(tenant.id()))
            .filter(check_ins::id.eq(check_in_id))
            .filter(check_ins::note.is_not_null()),
    ))
    .get_result(conn)?;
    if !has_note {
        return Ok(None);
    }
    diesel::insert_into(note_reads::table)
        .values((
            note_reads::check_in_id.eq(check_in_id),
            note_reads::clinic_id.eq(tenant.id()),
            note_reads::read_by.eq(staff_id),
            note_reads::read_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    note_reads::table
        .filter(note_reads::check_in_id.eq(check_in_id))
        .select((note_reads::read_by, note_reads::read_at))
        .first(conn)
        .optional()
}
