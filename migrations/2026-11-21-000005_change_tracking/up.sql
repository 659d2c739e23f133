-- The recovery views keep a copy of the daily scores in memory and read only what changed since
-- they last looked: rows written by transactions not yet visible in the snapshot they last read.
-- Every write stamps its transaction id, so the copy is exact whatever order transactions commit in.
CREATE FUNCTION stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

ALTER TABLE check_ins ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX check_ins_xid_idx ON check_ins (xid);
CREATE TRIGGER check_ins_stamp_xid BEFORE UPDATE ON check_ins FOR EACH ROW EXECUTE FUNCTION stamp_xid();

ALTER TABLE treatments ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX treatments_xid_idx ON treatments (xid);
CREATE TRIGGER treatments_stamp_xid BEFORE UPDATE ON treatments FOR EACH ROW EXECUTE FUNCTION stamp_xid();

ALTER TABLE patients ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX patients_xid_idx ON patients (xid);
CREATE TRIGGER patients_stamp_xid BEFORE UPDATE ON patients FOR EACH ROW EXECUTE FUNCTION stamp_xid();

-- The dashboard counts the check-ins a clinic received today.
CREATE INDEX check_ins_clinic_received_idx ON check_ins (clinic_id, received_at);
