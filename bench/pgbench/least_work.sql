-- The least a check-in must ask of the database: read the earlier days' worst scores (for the
-- worsening rule), then write the check-in, its scores and its audit record in one transaction.
-- The physical limit beside check_in.sql, which is what the service really sends.
\set n random(1, 9000000000000000000)
-- One of the 50 latest treatments, as the phones of bench-load post to theirs.
\set k random(1, 50)
SELECT s.symptom_code, s.day, max(s.score) FROM check_in_scores s JOIN check_ins c ON c.id = s.check_in_id
 WHERE c.clinic_id = ':clinic' AND c.treatment_id = (':treatments'::uuid[])[:k] AND s.day >= 1 AND s.day < 3
   AND s.symptom_code IN ('redness', 'swelling', 'pain') GROUP BY s.symptom_code, s.day;
BEGIN;
INSERT INTO check_ins (id, clinic_id, patient_id, treatment_id, recorded_at, day, received_at)
VALUES (md5(':n')::uuid, ':clinic', (':patients'::uuid[])[:k], (':treatments'::uuid[])[:k], now(), 3, now()) ON CONFLICT (id) DO NOTHING;
INSERT INTO check_in_scores (check_in_id, symptom_code, score, clinic_id, treatment_id, protocol_id, day)
VALUES (md5(':n')::uuid, 'redness', 1, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'swelling', 0, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'flaking', 1, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'itching', 1, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'pain', 0, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'infection', 0, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'fever', 0, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (md5(':n')::uuid, 'bruising', 0, ':clinic', (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3);
INSERT INTO audit_events (id, clinic_id, at, actor_id, actor_role, action, resource_type, resource_id,
                          request_id, status, outcome, patient_id)
VALUES (gen_random_uuid(), ':clinic', now(), (':patients'::uuid[])[:k], 'patient', 'create', 'check_in', md5(':n')::uuid,
        'pgbench', 201, 'success', (':patients'::uuid[])[:k]);
COMMIT;
