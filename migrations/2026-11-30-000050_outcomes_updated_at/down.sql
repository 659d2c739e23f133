ALTER TABLE outcomes DROP COLUMN updated_at;
