-- The statements of one check-in, in the order the service sends them, on its usual path (no alert
-- raised, no webhook subscribed to check-ins). tests/api/statements.rs reads a check-in's statements
-- off the wire and fails when they differ from these.
\set n random(1, 9000000000000000000)
-- The pool checks the connection it hands out.
SELECT 1;
SELECT id, name, timezone, created_at FROM clinics WHERE id = ':clinic';
SELECT clinic_id, code, label, kind, position, created_at FROM symptoms
 WHERE clinic_id IS NULL OR clinic_id = ':clinic' ORDER BY clinic_id IS NOT NULL, position;
SELECT * FROM treatments WHERE clinic_id = ':clinic' AND id = ':treatment';
BEGIN;
SAVEPOINT diesel_savepoint_1;
INSERT INTO check_ins (id, clinic_id, patient_id, treatment_id, recorded_at, day, received_at)
VALUES (md5(':n')::uuid, ':clinic', ':patient', ':treatment', now(), 3, now()) ON CONFLICT (id) DO NOTHING;
INSERT INTO check_in_scores (check_in_id, symptom_code, score, clinic_id, treatment_id, protocol_id, day)
VALUES (md5(':n')::uuid, 'redness', 1, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'swelling', 0, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'flaking', 1, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'itching', 1, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'pain', 0, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'infection', 0, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'fever', 0, ':clinic', ':treatment', ':protocol', 3),
       (md5(':n')::uuid, 'bruising', 0, ':clinic', ':treatment', ':protocol', 3);
RELEASE SAVEPOINT diesel_savepoint_1;
-- The earlier days' worst scores, for the worsening rule.
SELECT s.symptom_code, s.day, max(s.score) FROM check_in_scores s JOIN check_ins c ON c.id = s.check_in_id
 WHERE c.clinic_id = ':clinic' AND c.treatment_id = ':treatment' AND s.day >= 1 AND s.day < 3
   AND s.symptom_code IN ('redness', 'swelling', 'pain') GROUP BY s.symptom_code, s.day;
-- The webhook outbox: nothing is written when no webhook subscribes.
WITH hooks AS (
    SELECT id FROM webhooks WHERE clinic_id = ':clinic' AND active AND 'check_in.created' = ANY (events)
), event AS (
    INSERT INTO webhook_events (id, clinic_id, type, payload, created_at)
    SELECT gen_random_uuid(), ':clinic', 'check_in.created', '{}', now() WHERE EXISTS (SELECT 1 FROM hooks)
    RETURNING id
)
INSERT INTO webhook_deliveries (id, clinic_id, webhook_id, event_id, next_attempt_at, deadline, created_at)
SELECT gen_random_uuid(), ':clinic', hooks.id, event.id, now(), now(), now() FROM hooks CROSS JOIN event;
COMMIT;
-- The audit record, on a second checkout, in a transaction of its own.
SELECT 1;
INSERT INTO audit_events (id, clinic_id, at, actor_id, actor_role, action, resource_type, resource_id,
                          request_id, status, outcome, patient_id)
VALUES (gen_random_uuid(), ':clinic', now(), ':patient', 'patient', 'create', 'check_in', md5(':n')::uuid,
        'pgbench', 201, 'success',
        COALESCE((SELECT patient_id FROM check_ins WHERE clinic_id = ':clinic' AND id = md5(':n')::uuid), NULL));
