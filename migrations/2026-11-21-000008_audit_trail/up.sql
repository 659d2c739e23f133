-- The audit trail: who read or changed which patient's data, when, and with what outcome. Never the
-- health data itself. Rows are written by the service as requests finish, then sealed into a hash
-- chain per clinic by a background job (so that writing them never waits on another request).
CREATE TABLE audit_events (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    at timestamptz NOT NULL,
    actor_id uuid NOT NULL,
    actor_role text NOT NULL,
    -- read, list, create, update, acknowledge, resolve
    action text NOT NULL,
    -- patient, treatment, check_in, alert, adverse_event, outcome, enrollment_code, ...
    resource_type text NOT NULL,
    resource_id uuid,
    patient_id uuid,
    request_id text NOT NULL,
    -- The HTTP status the caller got, and what it means: success, denied, not_found, rejected, failed.
    status smallint NOT NULL,
    outcome text NOT NULL,
    -- Set once, when the record is sealed: its place in the clinic's chain, the hash of the record
    -- before it, and its own hash over both and every field above.
    seq bigint,
    prev_hash bytea,
    hash bytea,
    UNIQUE (clinic_id, seq)
);
CREATE INDEX audit_events_clinic_at_idx ON audit_events (clinic_id, at DESC, id DESC);
CREATE INDEX audit_events_patient_idx ON audit_events (clinic_id, patient_id, at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (clinic_id, actor_id, at DESC, id DESC);
CREATE INDEX audit_events_unsealed_idx ON audit_events (at, id) WHERE hash IS NULL;

-- The last sealed record of each clinic's chain, so that removing records from its end shows.
CREATE TABLE audit_chains (
    clinic_id uuid PRIMARY KEY REFERENCES clinics (id),
    seq bigint NOT NULL,
    hash bytea NOT NULL
);

-- Records are append-only: the only change allowed is sealing an unsealed record, and a chain's
-- head only moves forward. Whoever can disable these triggers can still tamper, and the chain then
-- shows it (aftercare admin verify-audit).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND to_jsonb(NEW) - '{seq,prev_hash,hash}'::text[] = to_jsonb(OLD) - '{seq,prev_hash,hash}'::text[] THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE FUNCTION audit_chains_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.clinic_id = OLD.clinic_id AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit chains only move forward' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_chains_forward_only BEFORE UPDATE OR DELETE ON audit_chains
    FOR EACH ROW EXECUTE FUNCTION audit_chains_forward_only();
CREATE TRIGGER audit_chains_no_truncate BEFORE TRUNCATE ON audit_chains
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chains_forward_only();
