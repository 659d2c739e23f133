-- FHIR Bulk Data: export jobs, run by a background worker, their ndjson files kept in the
-- database until the job expires; and the system clients that may export (SMART Backend Services).
CREATE TABLE fhir_exports (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- The admin who asked.
    requested_by uuid NOT NULL,
    -- The kick-off request's URL, as the manifest repeats it.
    request text NOT NULL,
    -- A Group-level export: the protocol whose cohort is exported.
    group_id uuid,
    types text[] NOT NULL,
    since timestamptz,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    -- What the worker has done, for X-Progress.
    progress text NOT NULL DEFAULT 'queued',
    error text,
    -- Resources changed after this are not exported (the manifest's transactionTime).
    transaction_time timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    expires_at timestamptz NOT NULL
);
-- One export at a time per clinic: a second kick-off while one runs is refused (429).
CREATE UNIQUE INDEX fhir_exports_one_at_a_time ON fhir_exports (clinic_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX fhir_exports_expiry ON fhir_exports (expires_at);

CREATE TABLE fhir_export_files (
    id uuid PRIMARY KEY,
    export_id uuid NOT NULL REFERENCES fhir_exports (id) ON DELETE CASCADE,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    resource_type text NOT NULL,
    -- The file's place among the export's files, in the manifest's order.
    seq integer NOT NULL,
    count integer NOT NULL,
    body text NOT NULL,
    UNIQUE (export_id, seq)
);

-- SMART Backend Services: the system clients an admin registered, by their public keys (a JWKS).
CREATE TABLE fhir_clients (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    name text NOT NULL,
    jwks jsonb NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fhir_clients_clinic ON fhir_clients (clinic_id, created_at);

-- The `jti` of every client assertion taken, until it expires: a replayed assertion is refused.
CREATE TABLE fhir_client_assertions (
    client_id uuid NOT NULL REFERENCES fhir_clients (id) ON DELETE CASCADE,
    jti text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX fhir_client_assertions_expiry ON fhir_client_assertions (expires_at);
