-- FHIR searches by patient and by date: a patient's complications and outcomes, a clinic's
-- complications by onset and treatments by when they were performed, found through an index
-- rather than by reading the clinic's rows. (Check-ins have theirs: check_ins_patient_page_idx,
-- check_ins_clinic_recorded_idx; a patient's treatments treatments_patient_page_idx; record
-- numbers patients_external_ref_key.)
CREATE INDEX adverse_events_patient_onset_idx ON adverse_events (clinic_id, patient_id, onset_date);
CREATE INDEX adverse_events_clinic_onset_idx ON adverse_events (clinic_id, onset_date);
CREATE INDEX outcomes_patient_idx ON outcomes (clinic_id, patient_id, assessed_on);
CREATE INDEX treatments_clinic_performed_idx ON treatments (clinic_id, performed_at);
