CREATE TABLE protocols (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    name text NOT NULL,
    procedure text NOT NULL
        CHECK (procedure IN ('microneedling', 'microneedling_prp', 'rf_microneedling', 'other')),
    needle_depth_mm double precision NOT NULL,
    areas text[] NOT NULL,
    sessions_planned integer NOT NULL,
    interval_days integer NOT NULL,
    -- Days since treatment on which a check-in is due, sorted and distinct.
    check_in_days integer[] NOT NULL,
    aftercare_instructions text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id),
    CONSTRAINT protocols_name_key UNIQUE (clinic_id, name)
);
CREATE INDEX protocols_clinic_page_idx ON protocols (clinic_id, created_at, id);

CREATE TABLE patients (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- The clinic's own record number.
    external_ref text NOT NULL,
    display_name text,
    birth_year integer,
    fitzpatrick_type smallint CHECK (fitzpatrick_type BETWEEN 1 AND 6),
    concerns text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id),
    CONSTRAINT patients_external_ref_key UNIQUE (clinic_id, external_ref)
);
CREATE INDEX patients_clinic_page_idx ON patients (clinic_id, created_at, id);

-- The composite foreign keys keep every reference inside one clinic, whatever the code does.
CREATE TABLE treatments (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    protocol_id uuid NOT NULL,
    performed_at timestamptz NOT NULL,
    needle_depth_mm double precision NOT NULL,
    areas text[] NOT NULL,
    session_number integer NOT NULL,
    -- The screening answer for every contraindication code: {"pregnancy": false, ...}.
    contraindications jsonb NOT NULL,
    override_reason text,
    notes text,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, protocol_id) REFERENCES protocols (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES staff (clinic_id, id)
);
CREATE INDEX treatments_patient_page_idx ON treatments (clinic_id, patient_id, performed_at DESC, id DESC);
CREATE INDEX treatments_protocol_idx ON treatments (clinic_id, protocol_id, performed_at);

-- One-time codes that bind a patient's app; only a hash is kept.
CREATE TABLE enrollment_codes (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    code_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES staff (clinic_id, id)
);
CREATE INDEX enrollment_codes_patient_idx ON enrollment_codes (clinic_id, patient_id);

-- Refresh tokens, hashed. Each use rotates the token within its family; reusing a used one revokes
-- the whole family.
CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    staff_id uuid,
    patient_id uuid,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, staff_id) REFERENCES staff (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    CHECK ((staff_id IS NULL) <> (patient_id IS NULL))
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
