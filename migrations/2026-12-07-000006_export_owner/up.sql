-- Bulk Data export keeps its word (issue 24).
-- Who kicked the export off: `requested_by` is a staff member's id or a system client's; only
-- that same caller may see its status, download its files or cancel it.
ALTER TABLE fhir_exports
    ADD COLUMN requester_kind text NOT NULL DEFAULT 'staff' CHECK (requester_kind IN ('staff', 'client'));
-- What the kick-off narrowed the export to: its `_typeFilter` values (a search per type) and its
-- `patient` references (NULL: every patient).
ALTER TABLE fhir_exports ADD COLUMN type_filters text[] NOT NULL DEFAULT '{}';
ALTER TABLE fhir_exports ADD COLUMN patients uuid[];
-- An export that held a patient erased since: its files are gone, its status answers 410.
ALTER TABLE fhir_exports DROP CONSTRAINT fhir_exports_status_check;
ALTER TABLE fhir_exports ADD CONSTRAINT fhir_exports_status_check
    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'erased'));
-- The patients whose data a file holds: a download is audited under each, and an erasure finds
-- the files to delete.
ALTER TABLE fhir_export_files ADD COLUMN patients uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX fhir_export_files_patients ON fhir_export_files USING gin (patients);
