DROP INDEX check_ins_treatment_recorded_idx;
CREATE INDEX check_ins_treatment_idx ON check_ins (treatment_id, day);
DROP TABLE alert_evidence;
DROP TABLE alerts;
