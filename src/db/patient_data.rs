//! Everything held about one patient: exported (GDPR Art. 15 and 20) or erased (Art. 17). The
//! audit trail is neither: its records hold ids only and are kept, as the law's exceptions for
//! records kept under a legal obligation allow.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::Tenant;
use crate::domain::ids::{PatientId, StaffId};
use crate::domain::webhooks::{Event, PatientData};

#[derive(QueryableByName)]
struct Export {
    #[diesel(sql_type = Text)]
    export: String,
}

/// Every table's rows about the patient, as JSON; secrets (token and code hashes) left out.
const EXPORT: &str = "
SELECT json_build_object(
  'patient', (SELECT row_to_json(p) FROM (
      SELECT id, external_ref, display_name, birth_year, fitzpatrick_type, concerns, contact_phone,
             created_at, updated_at
        FROM patients WHERE clinic_id = $1 AND id = $2) p),
  'treatments', (SELECT coalesce(json_agg(t ORDER BY t.performed_at, t.id), '[]') FROM (
      SELECT id, protocol_id, performed_at, needle_depth_mm, areas, session_number, contraindications,
             override_reason, notes, created_by, created_at
        FROM treatments WHERE clinic_id = $1 AND patient_id = $2) t),
  'check_ins', (SELECT coalesce(json_agg(c ORDER BY c.recorded_at, c.id), '[]') FROM (
      SELECT c.id, c.treatment_id, c.recorded_at, c.received_at, c.day, c.sunscreen, c.sun_exposure,
             c.makeup, c.exercise, c.hot_shower, c.note,
             (SELECT coalesce(json_object_agg(s.symptom_code, s.score), '{}')
                FROM check_in_scores s WHERE s.check_in_id = c.id) AS scores
        FROM check_ins c WHERE c.clinic_id = $1 AND c.patient_id = $2) c),
  'photos', (SELECT coalesce(json_agg(x ORDER BY x.created_at, x.id), '[]') FROM (
      SELECT id, check_in_id, content_type, width, height, bytes, clinical_use_consented_at,
             before_after_consented_at, before_after_withdrawn_at, flagged_by, flagged_at, created_at,
             '/v1/check-ins/' || check_in_id || '/photos/' || id AS url
        FROM photos WHERE clinic_id = $1 AND patient_id = $2) x),
  'alerts', (SELECT coalesce(json_agg(a ORDER BY a.raised_at, a.id), '[]') FROM (
      SELECT a.id, a.treatment_id, a.rule, a.level, a.status, a.day, a.raised_at, a.acknowledged_at,
             a.acknowledged_by, a.resolved_at, a.resolved_by, a.resolution_note,
             a.resolution_action,
             (SELECT coalesce(json_agg(e ORDER BY e.day, e.id), '[]') FROM (
                 SELECT id, check_in_id, day, detail, created_at FROM alert_evidence
                  WHERE alert_id = a.id) e) AS evidence
        FROM alerts a WHERE a.clinic_id = $1 AND a.patient_id = $2) a),
  'adverse_events', (SELECT coalesce(json_agg(x ORDER BY x.onset_date, x.id), '[]') FROM (
      SELECT id, treatment_id, term, grade, serious, onset_date, outcome, notes, recorded_by,
             created_at, updated_at
        FROM adverse_events WHERE clinic_id = $1 AND patient_id = $2) x),
  'outcomes', (SELECT coalesce(json_agg(o ORDER BY o.assessed_on, o.id), '[]') FROM (
      SELECT id, treatment_id, assessed_on, assessor, gais, satisfaction, goodman_baron, notes,
             recorded_by_staff, created_at
        FROM outcomes WHERE clinic_id = $1 AND patient_id = $2) o),
  'enrollment_codes', (SELECT coalesce(json_agg(e ORDER BY e.created_at, e.id), '[]') FROM (
      SELECT id, created_by, created_at, expires_at, used_at
        FROM enrollment_codes WHERE clinic_id = $1 AND patient_id = $2) e),
  'sessions', (SELECT coalesce(json_agg(s ORDER BY s.started_at, s.id), '[]') FROM (
      SELECT family_id AS id, min(family_started_at) AS started_at, max(created_at) AS last_used_at,
             max(expires_at) AS expires_at, max(client) AS client,
             bool_and(revoked_at IS NOT NULL) AS revoked
        FROM refresh_tokens WHERE clinic_id = $1 AND patient_id = $2 GROUP BY family_id) s),
  'push_subscriptions', (SELECT coalesce(json_agg(s ORDER BY s.created_at, s.id), '[]') FROM (
      SELECT id, endpoint, language, created_at
        FROM push_subscriptions WHERE clinic_id = $1 AND patient_id = $2) s),
  'reminders', (SELECT coalesce(json_agg(r ORDER BY r.created_at, r.treatment_id), '[]') FROM (
      SELECT treatment_id, day, created_at FROM reminders
       WHERE clinic_id = $1
         AND treatment_id IN (SELECT id FROM treatments WHERE clinic_id = $1 AND patient_id = $2)) r),
  'audit_events', (SELECT coalesce(json_agg(r ORDER BY r.at, r.id), '[]') FROM (
      SELECT id, at, actor_id, actor_role, action, resource_type, resource_id, request_id, status, outcome
        FROM audit_events WHERE clinic_id = $1 AND patient_id = $2) r)
)::text AS export";

/// The patient's data as one JSON object (see `EXPORT`); the caller has checked the patient exists.
pub fn export(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
) -> QueryResult<serde_json::Value> {
    let row: Export = diesel::sql_query(EXPORT)
        .bind::<SqlUuid, _>(tenant.id())
        .bind::<SqlUuid, _>(patient_id)
        .get_result(conn)?;
    serde_json::from_str(&row.export)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Deletes the patient's data, children before parents, then records the erasure. The webhook
/// events naming the patient go too, with their deliveries. A treatment's deletion is logged for
/// the recovery read model (migration `patient_erasure`).
const ERASE: &[&str] = &[
    "DELETE FROM alert_evidence WHERE alert_id IN (SELECT id FROM alerts WHERE clinic_id = $1 AND patient_id = $2)
        OR check_in_id IN (SELECT id FROM check_ins WHERE clinic_id = $1 AND patient_id = $2)",
    "DELETE FROM alerts WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM check_in_scores WHERE check_in_id IN (SELECT id FROM check_ins WHERE clinic_id = $1 AND patient_id = $2)",
    "DELETE FROM photos WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM check_ins WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM adverse_events WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM outcomes WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM enrollment_codes WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM refresh_tokens WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d
        JOIN webhook_events e ON e.id = d.event_id
       WHERE e.clinic_id = $1 AND e.payload -> 'data' ->> 'patient_id' = $2::text)",
    "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events
       WHERE clinic_id = $1 AND payload -> 'data' ->> 'patient_id' = $2::text)",
    "DELETE FROM webhook_events WHERE clinic_id = $1 AND payload -> 'data' ->> 'patient_id' = $2::text",
    "DELETE FROM push_subscriptions WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM reminders WHERE clinic_id = $1
        AND treatment_id IN (SELECT id FROM treatments WHERE clinic_id = $1 AND patient_id = $2)",
    "DELETE FROM treatments WHERE clinic_id = $1 AND patient_id = $2",
    "DELETE FROM patients WHERE clinic_id = $1 AND id = $2",
];

/// Erases the patient's personal and health data and records the erasure with its reason; the
/// clinic's webhooks hear of it as `patient.erased`, with the id alone.
pub fn erase(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    reason: &str,
    erased_by: StaffId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        for statement in ERASE {
            diesel::sql_query(*statement)
                .bind::<SqlUuid, _>(tenant.id())
                .bind::<SqlUuid, _>(patient_id)
                .execute(conn)?;
        }
        let erased = Event::PatientErased(PatientData {
            patient_id: patient_id.uuid(),
        });
        super::webhooks::enqueue(conn, tenant, &erased)?;
        diesel::sql_query(
            "INSERT INTO patient_erasures (id, clinic_id, patient_id, reason, erased_by, erased_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind::<SqlUuid, _>(Uuid::new_v4())
        .bind::<SqlUuid, _>(tenant.id())
        .bind::<SqlUuid, _>(patient_id)
        .bind::<Text, _>(reason)
        .bind::<SqlUuid, _>(erased_by)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .map(drop)
    })
}
