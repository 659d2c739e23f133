-- A check-in's id is chosen by the app, so that a retried post is recognised.
CREATE TABLE check_ins (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    treatment_id uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    -- Days since the treatment, in the clinic's time zone; the treatment day is 0.
    day integer NOT NULL CHECK (day >= 0),
    sunscreen boolean,
    sun_exposure boolean,
    makeup boolean,
    exercise boolean,
    hot_shower boolean,
    note text,
    received_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id)
);
CREATE INDEX check_ins_patient_page_idx ON check_ins (clinic_id, patient_id, recorded_at DESC, id DESC);
CREATE INDEX check_ins_treatment_idx ON check_ins (treatment_id, day);

-- One row per symptom score. The check-in's treatment, protocol and day are copied here so that
-- aggregating by protocol, symptom and day is a plain GROUP BY.
CREATE TABLE check_in_scores (
    check_in_id uuid NOT NULL REFERENCES check_ins (id),
    symptom_code text NOT NULL,
    score smallint NOT NULL CHECK (score BETWEEN 0 AND 4),
    clinic_id uuid NOT NULL,
    treatment_id uuid NOT NULL,
    protocol_id uuid NOT NULL,
    day integer NOT NULL,
    PRIMARY KEY (check_in_id, symptom_code)
);
CREATE INDEX check_in_scores_protocol_idx ON check_in_scores (clinic_id, protocol_id, symptom_code, day);
