ALTER TABLE protocols DROP COLUMN photo_days;
