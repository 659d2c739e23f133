//! What the silence rules (`silent_after_bad_report`, `missed_check_ins`) read of the check-ins
//! that did come: the reports that were trouble, and the reminders the patient was sent.

use diesel::prelude::*;

use super::Tenant;
use super::schema::{alert_evidence, alerts, check_in_scores, push_subscriptions, reminders};
use crate::domain::ids::{PatientId, TreatmentId};

/// The scores of 3 or more (severity items: a yes/no item scores at most 1) among the treatments'
/// check-ins, as (treatment, day, symptom, score).
pub fn high_scores(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
) -> QueryResult<Vec<(TreatmentId, i32, String, i16)>> {
    check_in_scores::table
        .filter(check_in_scores::clinic_id.eq(tenant.id()))
        .filter(check_in_scores::treatment_id.eq_any(treatment_ids))
        .filter(check_in_scores::score.ge(3))
        .select((
            check_in_scores::treatment_id,
            check_in_scores::day,
            check_in_scores::symptom_code,
            check_in_scores::score,
        ))
        .load(conn)
}

/// The days on which a check-in of the treatments raised an alert of one of `rules` (or added its
/// evidence to one), as (treatment, day).
pub fn alerted_days(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
    rules: &[&str],
) -> QueryResult<Vec<(TreatmentId, i32)>> {
    alerts::table
        .inner_join(alert_evidence::table)
        .filter(alerts::clinic_id.eq(tenant.id()))
        .filter(alerts::treatment_id.eq_any(treatment_ids))
        .filter(alerts::rule.eq_any(rules))
        .filter(alert_evidence::check_in_id.is_not_null())
        .select((alerts::treatment_id, alert_evidence::day))
        .distinct()
        .load(conn)
}

/// The reminders sent for the treatments, as (treatment, day).
pub fn reminded_days(
    conn: &mut PgConnection,
    tenant: Tenant,
    treatment_ids: &[TreatmentId],
) -> QueryResult<Vec<(TreatmentId, i32)>> {
    reminders::table
        .filter(reminders::clinic_id.eq(tenant.id()))
        .filter(reminders::treatment_id.eq_any(treatment_ids))
        .select((reminders::treatment_id, reminders::day))
        .load(conn)
}

/// Which of the patients turned reminders on: a phone of theirs is subscribed to push messages.
pub fn with_reminders_on(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_ids: &[PatientId],
) -> QueryResult<Vec<PatientId>> {
    push_subscriptions::table
        .filter(push_subscriptions::clinic_id.eq(tenant.id()))
        .filter(push_subscriptions::patient_id.eq_any(patient_ids))
        .select(push_subscriptions::patient_id)
        .distinct()
        .load(conn)
}
