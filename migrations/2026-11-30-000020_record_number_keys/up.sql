-- Record numbers are compared in a form where look-alikes are one: compatibility forms folded
-- (full-width letters), accents dropped, case folded, and all but letters and digits left out
-- (domain::text::record_key computes it for what the service stores from now on). Unique per
-- clinic, so `MRN-00421` and `ＭＲＮ００４２１` can't be two patients.
ALTER TABLE patients ADD COLUMN external_ref_key text;

-- Existing record numbers get the same key, computed here; for record numbers in plain ASCII (as
-- they nearly always are) it is exactly the service's.
UPDATE patients
SET external_ref_key = lower(regexp_replace(normalize(external_ref, NFKD), '[^[:alnum:]]', '', 'g'));

-- Existing patients whose record numbers are look-alikes of each other stay: the oldest keeps the
-- key, and each later one gets its key made unique with its id, so the migration never fails and
-- no patient is merged or lost. A new patient can't take either look-alike. Staff find them with
-- SELECT external_ref FROM patients WHERE external_ref_key LIKE '%#%'.
UPDATE patients p
SET external_ref_key = p.external_ref_key || '#' || p.id
FROM (
    SELECT id, row_number() OVER (PARTITION BY clinic_id, external_ref_key ORDER BY created_at, id) AS n
    FROM patients
) ranked
WHERE ranked.id = p.id AND ranked.n > 1;

ALTER TABLE patients ALTER COLUMN external_ref_key SET NOT NULL;
ALTER TABLE patients
    ADD CONSTRAINT patients_external_ref_lookalike_key UNIQUE (clinic_id, external_ref_key);
