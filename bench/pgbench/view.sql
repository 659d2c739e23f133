-- What a protocol view asks of the database: the protocol, the catalogue, and the changes since
-- the read model's last snapshot (none here: the steady state between check-ins).
SELECT * FROM protocols WHERE clinic_id = ':clinic' AND id = ':protocol';
SELECT code, kind FROM symptoms WHERE clinic_id IS NULL OR clinic_id = ':clinic' ORDER BY clinic_id IS NOT NULL, position;
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_current_snapshot()::text AS snap, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin \gset
SELECT t.id FROM treatments t WHERE t.id = ANY(ARRAY(
  SELECT id FROM treatments WHERE xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(xid, ':snap'::pg_snapshot)));
SELECT s.treatment_id, s.symptom_code, array_agg(s.day), array_agg(s.score) FROM check_in_scores s
 WHERE s.check_in_id = ANY(ARRAY(SELECT c.id FROM check_ins c
        WHERE c.xid >= ':xmin'::xid8 AND NOT pg_visible_in_snapshot(c.xid, ':snap'::pg_snapshot)))
 GROUP BY s.treatment_id, s.symptom_code;
COMMIT;
