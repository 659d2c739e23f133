DROP TABLE fhir_client_assertions;
DROP TABLE fhir_clients;
DROP TABLE fhir_export_files;
DROP TABLE fhir_exports;
