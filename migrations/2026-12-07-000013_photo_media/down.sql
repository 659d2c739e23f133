DROP INDEX photos_clinic_page_idx;
ALTER TABLE photos DROP COLUMN xid;
