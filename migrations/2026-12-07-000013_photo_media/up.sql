-- Photos as FHIR Media (issue 26): searched and exported as the other resources are, a clinic's
-- page at a time in the order of their last update (a photo's Media never changes after its upload:
-- consents and review flags are not in it, so its creation is its last update), and held by a Bulk
-- Data export by the transaction that wrote them (see 2026-12-07-000008_export_watermark).
ALTER TABLE photos ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX photos_clinic_page_idx ON photos (clinic_id, created_at, id);
