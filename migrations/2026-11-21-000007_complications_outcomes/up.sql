-- Complications (adverse events) a clinician records against a treatment, graded on the CTCAE scale.
CREATE TABLE adverse_events (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    treatment_id uuid NOT NULL,
    term text NOT NULL,
    grade smallint NOT NULL CHECK (grade BETWEEN 1 AND 5),
    serious boolean NOT NULL,
    onset_date date NOT NULL,
    outcome text NOT NULL
        CHECK (outcome IN ('resolved', 'recovering', 'ongoing', 'resolved_with_sequelae', 'unknown')),
    notes text,
    recorded_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by) REFERENCES staff (clinic_id, id)
);
CREATE INDEX adverse_events_treatment_idx ON adverse_events (clinic_id, treatment_id, created_at);

-- Outcomes weeks later, rated by the clinician or by the patient.
CREATE TABLE outcomes (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    treatment_id uuid NOT NULL,
    assessed_on date NOT NULL,
    assessor text NOT NULL CHECK (assessor IN ('clinician', 'patient')),
    -- Global Aesthetic Improvement Scale: -1 worse, 0 no change, 1 improved, 2 much, 3 very much improved.
    gais smallint NOT NULL CHECK (gais BETWEEN -1 AND 3),
    satisfaction smallint NOT NULL CHECK (satisfaction BETWEEN 0 AND 10),
    -- Goodman & Baron qualitative acne scar grade, 1 macular to 4 severe.
    goodman_baron smallint CHECK (goodman_baron BETWEEN 1 AND 4),
    notes text,
    recorded_by_staff uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by_staff) REFERENCES staff (clinic_id, id)
);
CREATE INDEX outcomes_treatment_idx ON outcomes (clinic_id, treatment_id, assessed_on);
