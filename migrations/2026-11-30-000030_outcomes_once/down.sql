-- The duplicates the migration removed are not restored.
DROP INDEX outcomes_once_idx;
