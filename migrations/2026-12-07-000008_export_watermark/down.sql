DROP TABLE fhir_export_marks;
ALTER TABLE fhir_exports DROP COLUMN since_snapshot;
ALTER TABLE fhir_exports DROP COLUMN snapshot;
DROP TRIGGER outcomes_stamp_xid ON outcomes;
ALTER TABLE outcomes DROP COLUMN xid;
DROP TRIGGER adverse_events_stamp_xid ON adverse_events;
ALTER TABLE adverse_events DROP COLUMN xid;
