-- What one check-in asks of the database: the clinic, the catalogue, the treatment, then the
-- check-in and its eight scores in one transaction.
SELECT timezone FROM clinics WHERE id = ':clinic';
SELECT code, kind FROM symptoms WHERE clinic_id IS NULL OR clinic_id = ':clinic' ORDER BY clinic_id IS NOT NULL, position;
SELECT * FROM treatments WHERE clinic_id = ':clinic' AND id = ':treatment';
BEGIN;
SELECT gen_random_uuid() AS id \gset
INSERT INTO check_ins (id, clinic_id, patient_id, treatment_id, recorded_at, day, received_at)
VALUES (':id', ':clinic', ':patient', ':treatment', now(), 0, now()) ON CONFLICT (id) DO NOTHING;
INSERT INTO check_in_scores (check_in_id, symptom_code, score, clinic_id, treatment_id, protocol_id, day)
SELECT ':id', code, 1, ':clinic', ':treatment', ':protocol', 0
  FROM unnest(ARRAY['redness','swelling','flaking','itching','pain','infection','fever','bruising']) AS code;
COMMIT;
