-- A patient's own phone number, for the front desk to call back: `+` and digits, checked and kept
-- as the clinic's is (domain::clinic::parse_phone); NULL when not known.
ALTER TABLE patients ADD COLUMN contact_phone text;

-- The patient list's search as one types (GET /v1/patients?q=): a prefix of the record number's
-- compared form (LIKE 'mrn004%' needs text_pattern_ops whatever the database's collation), and a
-- prefix of any word of the name (a prefix tsquery, 'ale':*, which a GIN index answers even for
-- one letter).
CREATE INDEX patients_record_prefix_idx ON patients (clinic_id, external_ref_key text_pattern_ops);
CREATE INDEX patients_name_words_idx ON patients USING gin (to_tsvector('simple', display_name));

-- The list's count of each patient's open or acknowledged alerts, and its filter on them.
CREATE INDEX alerts_patient_unresolved_idx ON alerts (clinic_id, patient_id) WHERE status <> 'resolved';
