-- Accounts that end: staff can be deactivated, sessions (refresh-token families) have an absolute
-- lifetime counted from the family's start, and admins issue one-time password reset tokens.
ALTER TABLE staff ADD COLUMN active boolean NOT NULL DEFAULT true;

ALTER TABLE refresh_tokens ADD COLUMN family_started_at timestamptz;
UPDATE refresh_tokens r
   SET family_started_at = f.started
  FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) f
 WHERE f.family_id = r.family_id;
ALTER TABLE refresh_tokens
    ALTER COLUMN family_started_at SET NOT NULL,
    ALTER COLUMN family_started_at SET DEFAULT now();
-- The kind of client that signed in (its User-Agent's first product), when it said.
ALTER TABLE refresh_tokens ADD COLUMN client text;
CREATE INDEX refresh_tokens_staff_idx ON refresh_tokens (clinic_id, staff_id) WHERE staff_id IS NOT NULL;
CREATE INDEX refresh_tokens_patient_idx ON refresh_tokens (clinic_id, patient_id) WHERE patient_id IS NOT NULL;

-- Only the token's hash is kept; it works once, until it expires.
CREATE TABLE password_resets (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    staff_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, staff_id) REFERENCES staff (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES staff (clinic_id, id)
);
CREATE INDEX password_resets_staff_idx ON password_resets (clinic_id, staff_id);
