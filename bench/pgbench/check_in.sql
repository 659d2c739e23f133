-- The statements of one check-in, in the order the service sends them, on its usual path (no alert
-- raised, no webhook subscribed to check-ins, no symptom that could be worsening: the earlier days'
-- scores are read only when one scores 2 or more). tests/api/statements.rs reads a check-in's
-- statements off the wire and fails when they differ from these.
\set n random(1, 9000000000000000000)
-- One of the 50 latest treatments, as the phones of bench-load post to theirs.
\set k random(1, 50)
-- The caller's session still stands (src/sessions.rs; a session is remembered for 2 seconds, and a
-- phone checks in far less often): one index lookup.
SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = gen_random_uuid() AND revoked_at IS NULL);
-- The patient's treatment (the clinic's time zone and catalogue are cached).
SELECT * FROM treatments WHERE clinic_id = ':clinic' AND patient_id = (':patients'::uuid[])[:k] AND id = ANY(ARRAY[(':treatments'::uuid[])[:k]]);
-- The check-in, its scores, its webhook events and its audit record, in one transaction.
BEGIN;
INSERT INTO check_ins (clinic_id, id, patient_id, treatment_id, recorded_at, day, received_at)
VALUES (':clinic', md5(':n')::uuid, (':patients'::uuid[])[:k], (':treatments'::uuid[])[:k], now(), 3, now()) ON CONFLICT (id) DO NOTHING RETURNING id;
INSERT INTO check_in_scores (clinic_id, check_in_id, symptom_code, score, treatment_id, protocol_id, day)
VALUES (':clinic', md5(':n')::uuid, 'redness', 1, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'swelling', 0, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'flaking', 1, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'itching', 1, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'pain', 0, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'infection', 0, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'fever', 0, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3),
       (':clinic', md5(':n')::uuid, 'bruising', 0, (':treatments'::uuid[])[:k], (':protocols'::uuid[])[:k], 3);
-- The webhook outbox: nothing is written when no webhook subscribes.
WITH hooks AS (
    SELECT id, events FROM webhooks WHERE clinic_id = ':clinic' AND active
), event AS (
    INSERT INTO webhook_events (id, clinic_id, type, payload, created_at)
    SELECT e.id, ':clinic', e.type, e.payload, now()
      FROM unnest(ARRAY[gen_random_uuid()], ARRAY['check_in.created'], ARRAY['{}'::jsonb]) AS e(id, type, payload)
     WHERE EXISTS (SELECT 1 FROM hooks WHERE e.type = ANY (hooks.events))
    RETURNING id, type
)
INSERT INTO webhook_deliveries (id, clinic_id, webhook_id, event_id, next_attempt_at, deadline, created_at)
SELECT gen_random_uuid(), ':clinic', hooks.id, event.id, now(), now(), now()
  FROM event JOIN hooks ON event.type = ANY (hooks.events);
INSERT INTO audit_events (id, clinic_id, at, actor_id, actor_role, action, resource_type, resource_id,
                          request_id, status, outcome, patient_id)
VALUES (gen_random_uuid(), ':clinic', now(), (':patients'::uuid[])[:k], 'patient', 'create', 'check_in', md5(':n')::uuid,
        'pgbench', 201, 'success', (':patients'::uuid[])[:k]);
COMMIT;
