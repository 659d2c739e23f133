-- Each clinic's short code, by which staff who work at more than one clinic name the one they sign
-- in to (so that a sign-in checks the password of one account only). Six characters of the
-- alphabet that can't be misread (domain::clinic::ClinicCode); the application makes them, and
-- here the existing clinics are given theirs.
ALTER TABLE clinics ADD COLUMN code text;

DO $$
DECLARE
    clinic record;
    candidate text;
    alphabet constant text := 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
BEGIN
    FOR clinic IN SELECT id FROM clinics ORDER BY id LOOP
        LOOP
            candidate := '';
            FOR i IN 1..6 LOOP
                candidate := candidate || substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1);
            END LOOP;
            EXIT WHEN NOT EXISTS (SELECT 1 FROM clinics WHERE code = candidate);
        END LOOP;
        UPDATE clinics SET code = candidate WHERE id = clinic.id;
    END LOOP;
END
$$;

ALTER TABLE clinics ALTER COLUMN code SET NOT NULL;
ALTER TABLE clinics ADD CONSTRAINT clinics_code_form CHECK (code ~ '^[A-HJKMNP-TV-Z2-9]{6}$');
CREATE UNIQUE INDEX clinics_code_key ON clinics (code);
