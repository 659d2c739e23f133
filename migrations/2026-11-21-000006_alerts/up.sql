-- Alerts raised by the rules of domain.md. One open (or acknowledged) alert per rule and treatment;
-- a later check-in that meets the rule adds its evidence to it.
CREATE TABLE alerts (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    treatment_id uuid NOT NULL,
    rule text NOT NULL,
    level text NOT NULL CHECK (level IN ('urgent', 'high', 'normal')),
    -- 0 urgent, 1 high, 2 normal: the queue's order.
    level_rank smallint NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    -- Days since the treatment when it was raised.
    day integer NOT NULL,
    evidence_count integer NOT NULL DEFAULT 1,
    raised_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by uuid,
    resolved_at timestamptz,
    resolved_by uuid,
    resolution_note text,
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id),
    FOREIGN KEY (clinic_id, acknowledged_by) REFERENCES staff (clinic_id, id),
    FOREIGN KEY (clinic_id, resolved_by) REFERENCES staff (clinic_id, id)
);
CREATE UNIQUE INDEX alerts_one_open_key ON alerts (treatment_id, rule) WHERE status <> 'resolved';
CREATE INDEX alerts_queue_idx ON alerts (clinic_id, level_rank, raised_at, id);

-- What raised an alert, one row per check-in that met the rule (or per run of missed days).
CREATE TABLE alert_evidence (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_id uuid NOT NULL REFERENCES alerts (id),
    check_in_id uuid REFERENCES check_ins (id),
    day integer NOT NULL,
    -- The scores that met the rule, {code: score}; or, for missed check-ins, {"missed_days": [d, d]}.
    detail jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_evidence_alert_idx ON alert_evidence (alert_id, created_at);
CREATE INDEX alert_evidence_check_in_idx ON alert_evidence (check_in_id);

-- The rules compare a check-in with the patient's previous one for the same treatment.
DROP INDEX check_ins_treatment_idx;
CREATE INDEX check_ins_treatment_recorded_idx ON check_ins (treatment_id, recorded_at DESC, id DESC);
