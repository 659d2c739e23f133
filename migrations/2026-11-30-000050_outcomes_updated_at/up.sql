-- When an outcome last changed: a second record for the same treatment, assessor and date replaces
-- the first in place, and FHIR's `_lastUpdated` and Bulk Data's `_since` must see that change.
ALTER TABLE outcomes ADD COLUMN updated_at timestamptz;
UPDATE outcomes SET updated_at = created_at;
ALTER TABLE outcomes ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now();
