-- One outcome per treatment, assessor and assessment date: a second one for the same key replaces
-- the first, so that repeated records can't weigh a treatment more than once in the statistics.
-- Existing duplicates keep the latest record.
DELETE FROM outcomes o
 USING outcomes newer
 WHERE newer.clinic_id = o.clinic_id
   AND newer.treatment_id = o.treatment_id
   AND newer.assessor = o.assessor
   AND newer.assessed_on = o.assessed_on
   AND (newer.created_at, newer.id) > (o.created_at, o.id);
CREATE UNIQUE INDEX outcomes_once_idx ON outcomes (clinic_id, treatment_id, assessor, assessed_on);
