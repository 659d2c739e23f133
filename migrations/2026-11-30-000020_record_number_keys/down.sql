ALTER TABLE patients DROP COLUMN external_ref_key;
