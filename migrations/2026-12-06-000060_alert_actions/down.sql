DROP INDEX alerts_clinic_raised_idx;
ALTER TABLE alerts DROP COLUMN resolution_action;
