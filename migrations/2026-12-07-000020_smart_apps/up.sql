-- SMART App Launch: the apps a clinic registers, the approvals its users give them, the launch
-- contexts the dashboard opens them with, the authorization codes (single use, one minute) and
-- every access token issued (the audit of who gave which app what, and its revocation).
CREATE TABLE smart_apps (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    name text NOT NULL,
    -- Exact matches only.
    redirect_uris text[] NOT NULL,
    launch_url text,
    client_type text NOT NULL CHECK (client_type IN ('public', 'confidential-asymmetric')),
    -- The public keys of a confidential-asymmetric app (private_key_jwt); NULL for a public one.
    jwks jsonb,
    -- The scopes the app may ever be granted, space-separated.
    scopes text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((client_type = 'public') = (jwks IS NULL))
);
CREATE INDEX smart_apps_clinic_idx ON smart_apps (clinic_id, created_at);

-- A user approved the app for these scopes: later requests within them skip the consent page.
CREATE TABLE smart_approvals (
    app_id uuid NOT NULL REFERENCES smart_apps (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    scopes text NOT NULL,
    approved_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, user_id)
);

-- An EHR launch: a clinician opened the app from a patient's page.
CREATE TABLE smart_launches (
    id uuid PRIMARY KEY,
    app_id uuid NOT NULL REFERENCES smart_apps (id) ON DELETE CASCADE,
    staff_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Authorization codes, by their SHA-256: kept after use so that a reuse revokes its tokens.
CREATE TABLE smart_codes (
    code_hash bytea PRIMARY KEY,
    app_id uuid NOT NULL REFERENCES smart_apps (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'clinician', 'patient')),
    patient_id uuid,
    scope text NOT NULL,
    redirect_uri text NOT NULL,
    code_challenge text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

-- Every access token an app was given.
CREATE TABLE smart_tokens (
    id uuid PRIMARY KEY,
    app_id uuid NOT NULL REFERENCES smart_apps (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'clinician', 'patient')),
    patient_id uuid,
    scope text NOT NULL,
    code_hash bytea NOT NULL,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX smart_tokens_app_idx ON smart_tokens (app_id, issued_at);
CREATE INDEX smart_tokens_code_idx ON smart_tokens (code_hash);
