-- The statements of one protocol view, in the order the service sends them: the protocol, the
-- catalogue, the changes since the read model's last snapshot (none here: the steady state between
-- check-ins), and the protocol's complications. tests/api/statements.rs reads a view's statements
-- off the wire and fails when they differ from these.
-- The caller's session still stands (src/sessions.rs; a session is remembered for 2 seconds, and a
-- phone checks in far less often): one index lookup.
SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = gen_random_uuid() AND revoked_at IS NULL);
SELECT * FROM protocols WHERE clinic_id = ':clinic' AND id = ':protocol';
SELECT clinic_id, code, label, kind, position, created_at FROM symptoms
 WHERE clinic_id IS NULL OR clinic_id = ':clinic' ORDER BY clinic_id IS NOT NULL, position;
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_current_snapshot()::text AS snap, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
       substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS timeline \gset
SELECT t.id, t.clinic_id, t.protocol_id, t.patient_id, t.performed_at, t.session_number, t.areas,
       p.fitzpatrick_type, c.timezone
  FROM treatments t JOIN patients p ON p.id = t.patient_id JOIN clinics c ON c.id = t.clinic_id
 WHERE t.id = ANY(ARRAY(
       SELECT id FROM treatments WHERE xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(xid, ':snap'::pg_snapshot)
       UNION SELECT t2.id FROM patients p2 JOIN treatments t2 ON t2.clinic_id = p2.clinic_id AND t2.patient_id = p2.id
              WHERE p2.xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(p2.xid, ':snap'::pg_snapshot)));
SELECT s.treatment_id, s.symptom_code, s.day, s.score FROM check_in_scores s
 WHERE s.check_in_id = ANY(ARRAY(SELECT c.id FROM check_ins c
        WHERE c.xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(c.xid, ':snap'::pg_snapshot)));
-- Treatments deleted since (a patient's data erased).
SELECT treatment_id FROM treatment_deletions
 WHERE xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(xid, ':snap'::pg_snapshot);
COMMIT;
SELECT e.treatment_id, e.term, e.grade FROM adverse_events e JOIN treatments t ON t.id = e.treatment_id
 WHERE e.clinic_id = ':clinic' AND t.protocol_id = ':protocol';
