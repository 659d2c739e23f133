-- Clinics are the tenants: every other row belongs to exactly one.
CREATE TABLE clinics (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- IANA time zone; patients' days since treatment are counted in it.
    timezone text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- Stored lower-cased. Login is by address alone, so one address is one account across clinics.
    email text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'clinician')),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT staff_email_key UNIQUE (email),
    UNIQUE (clinic_id, id)
);
CREATE INDEX staff_clinic_page_idx ON staff (clinic_id, created_at, id);
