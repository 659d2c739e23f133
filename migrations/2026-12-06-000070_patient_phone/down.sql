DROP INDEX alerts_patient_unresolved_idx;
DROP INDEX patients_name_words_idx;
DROP INDEX patients_record_prefix_idx;
ALTER TABLE patients DROP COLUMN contact_phone;
