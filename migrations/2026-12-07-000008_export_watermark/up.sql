-- A Bulk Data export's transactionTime as a true upper bound (issue 24): an export holds the rows
-- its database snapshot sees, and a `_since` export whose instant is an earlier export's
-- transactionTime holds exactly the rows that snapshot did not see. A row committed while an export
-- runs is in one of the two, never both and never neither, whatever order transactions commit in
-- and whichever instance's clock stamped it.

-- Every exported row carries the transaction that last wrote it (check-ins, treatments and patients
-- already do, for the read model).
ALTER TABLE adverse_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE TRIGGER adverse_events_stamp_xid BEFORE UPDATE ON adverse_events
    FOR EACH ROW EXECUTE FUNCTION stamp_xid();
ALTER TABLE outcomes ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE TRIGGER outcomes_stamp_xid BEFORE UPDATE ON outcomes
    FOR EACH ROW EXECUTE FUNCTION stamp_xid();

-- The snapshot an export reads (`pg_snapshot` as text), and that of the export its `_since` names.
ALTER TABLE fhir_exports ADD COLUMN snapshot text;
UPDATE fhir_exports SET snapshot = pg_current_snapshot()::text;
ALTER TABLE fhir_exports ALTER COLUMN snapshot SET NOT NULL;
ALTER TABLE fhir_exports ADD COLUMN since_snapshot text;

-- Each export's transactionTime and snapshot, kept after the export itself expires: a later
-- `_since` finds the snapshot its instant stood for. No patient data.
CREATE TABLE fhir_export_marks (
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    transaction_time timestamptz NOT NULL,
    snapshot text NOT NULL,
    PRIMARY KEY (clinic_id, transaction_time)
);
