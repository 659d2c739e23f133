DROP TABLE password_resets;
DROP INDEX refresh_tokens_patient_idx;
DROP INDEX refresh_tokens_staff_idx;
ALTER TABLE refresh_tokens DROP COLUMN client;
ALTER TABLE refresh_tokens DROP COLUMN family_started_at;
ALTER TABLE staff DROP COLUMN active;
