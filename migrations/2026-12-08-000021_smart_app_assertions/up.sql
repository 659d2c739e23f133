-- The `jti` of every client assertion a confidential SMART app signed, until it expires: a
-- replayed assertion is refused (RFC 7523, 3; as fhir_client_assertions for system clients).
CREATE TABLE smart_app_assertions (
    app_id uuid NOT NULL REFERENCES smart_apps (id) ON DELETE CASCADE,
    jti text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, jti)
);
CREATE INDEX smart_app_assertions_expiry ON smart_app_assertions (expires_at);
