-- What resolving an alert led to (domain.md, "What a clinic sees of its own alerts"); NULL for
-- alerts resolved before it was asked, or by a client that does not say.
ALTER TABLE alerts ADD COLUMN resolution_action text
    CHECK (resolution_action IN ('contacted_patient', 'saw_patient', 'changed_treatment', 'no_action'));
-- The alert burden reads a clinic's alerts of the last 30 days.
CREATE INDEX alerts_clinic_raised_idx ON alerts (clinic_id, raised_at);
