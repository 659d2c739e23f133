-- Erasure of a patient's data on request (GDPR Art. 17): the record of the erasure itself, kept with
-- the patient's id and the admin's reason, never their data.
CREATE TABLE patient_erasures (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    reason text NOT NULL,
    erased_by uuid NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, patient_id),
    FOREIGN KEY (clinic_id, erased_by) REFERENCES staff (clinic_id, id)
);

-- The recovery read model learns of new rows by their transaction id (see change_tracking); a
-- deleted treatment leaves no row, so its deletion is logged here for the model to drop it.
CREATE TABLE treatment_deletions (
    treatment_id uuid PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX treatment_deletions_xid_idx ON treatment_deletions (xid);
CREATE FUNCTION log_treatment_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO treatment_deletions (treatment_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
    RETURN OLD;
END
$$;
CREATE TRIGGER treatments_log_deletion AFTER DELETE ON treatments
    FOR EACH ROW EXECUTE FUNCTION log_treatment_deletion();

-- Webhooks may hear of erasures (`patient.erased`, with the patient's id alone).
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded',
                        'patient.erased']
);
