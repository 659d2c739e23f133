-- Web Push subscriptions of patients' phones, the reminders sent (once per treatment and due day),
-- and the push outbox the delivery worker sends from.
CREATE TABLE push_subscriptions (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    -- The push service's URL for this browser: a capability, shown only to its patient.
    endpoint text NOT NULL,
    -- The browser's P-256 key (65 bytes, uncompressed) and auth secret (16 bytes).
    p256dh bytea NOT NULL CHECK (length(p256dh) = 65),
    auth bytea NOT NULL CHECK (length(auth) = 16),
    -- 'en' or 'de': the language of the notifications.
    language text NOT NULL CHECK (language IN ('en', 'de')),
    -- The sign-in (refresh-token family) it was made in: signing out drops it.
    session_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    UNIQUE (clinic_id, id),
    UNIQUE (patient_id, endpoint)
);
CREATE INDEX push_subscriptions_patient_idx ON push_subscriptions (clinic_id, patient_id);

-- One row per reminder: the primary key makes it once per treatment and due day, whatever restarts
-- and instances there are.
CREATE TABLE reminders (
    treatment_id uuid NOT NULL,
    day integer NOT NULL,
    clinic_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (treatment_id, day),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id)
);

CREATE TABLE push_deliveries (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    -- The notification, before encryption: it is encrypted anew for each attempt.
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    failures integer NOT NULL DEFAULT 0,
    -- When it is due; a worker that takes it moves this past its lease, as for webhooks.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A reminder is worth sending only the same evening.
    deadline timestamptz NOT NULL,
    last_status smallint,
    sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A subscription dropped (by its patient, or gone at the push service) takes its messages.
    FOREIGN KEY (clinic_id, subscription_id) REFERENCES push_subscriptions (clinic_id, id) ON DELETE CASCADE
);
CREATE INDEX push_deliveries_due_idx ON push_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX push_deliveries_subscription_idx ON push_deliveries (subscription_id);

-- Webhooks may hear of reminders (`check_in.due`), for clinics whose own SMS or email system
-- reminds patients.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded',
                        'patient.erased', 'check_in.due']
);
