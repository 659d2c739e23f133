-- Webhooks: endpoints an admin registers, to hear of what happens in the clinic as it happens.
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    url text NOT NULL,
    -- The event types it receives; a non-empty subset of the four there are.
    events text[] NOT NULL CHECK (
        cardinality(events) > 0
        AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded']
    ),
    -- Signs every delivery (HMAC-SHA256), so it is kept as given: it is shown once, when created.
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, created_by) REFERENCES staff (clinic_id, id),
    UNIQUE (clinic_id, id)
);
CREATE INDEX webhooks_clinic_page_idx ON webhooks (clinic_id, created_at, id);

-- The outbox: an event is written in the transaction of the change it tells of, and only when a
-- webhook of the clinic subscribes to it. Its id is the one receivers deduplicate on.
CREATE TABLE webhook_events (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    type text NOT NULL,
    -- The body sent: {id, type, created_at, clinic_id, data}.
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id)
);

-- One event to one webhook: sent until the receiver answers 2xx, retried with exponential backoff
-- until its deadline, then failed.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    webhook_id uuid NOT NULL,
    event_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Failed attempts since it was queued (or queued again): how long the next wait is.
    failures integer NOT NULL DEFAULT 0,
    -- When it is due; a worker that takes it moves this past the time one attempt can take (its
    -- lease), so that no other worker sends it meanwhile.
    next_attempt_at timestamptz NOT NULL,
    -- Retried until then (24 hours after it was queued).
    deadline timestamptz NOT NULL,
    last_status smallint,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, webhook_id) REFERENCES webhooks (clinic_id, id),
    FOREIGN KEY (clinic_id, event_id) REFERENCES webhook_events (clinic_id, id),
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_page_idx ON webhook_deliveries (webhook_id, created_at, id);

-- Every attempt, as the receiver answered it: an HTTP status, or why there was none.
CREATE TABLE webhook_attempts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at timestamptz NOT NULL,
    http_status smallint,
    error text,
    duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);
