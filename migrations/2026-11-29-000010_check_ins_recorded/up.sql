-- The dashboard counts the check-ins recorded today in the clinic's time zone.
CREATE INDEX check_ins_clinic_recorded_idx ON check_ins (clinic_id, recorded_at);
