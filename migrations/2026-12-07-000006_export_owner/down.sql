DROP INDEX fhir_export_files_patients;
ALTER TABLE fhir_export_files DROP COLUMN patients;
DELETE FROM fhir_exports WHERE status = 'erased';
ALTER TABLE fhir_exports DROP CONSTRAINT fhir_exports_status_check;
ALTER TABLE fhir_exports ADD CONSTRAINT fhir_exports_status_check
    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled'));
ALTER TABLE fhir_exports DROP COLUMN patients;
ALTER TABLE fhir_exports DROP COLUMN type_filters;
ALTER TABLE fhir_exports DROP COLUMN requester_kind;
