-- The worklist: which patients' notes a clinician has read, and who took which treatment's card.
-- Rows of their own, so that reading a note or taking a card never rewrites a check-in or a
-- treatment (whose changes the read model follows). An erasure's deletes cascade to them.
CREATE TABLE note_reads (
    check_in_id uuid PRIMARY KEY REFERENCES check_ins (id) ON DELETE CASCADE,
    clinic_id uuid NOT NULL,
    read_by uuid NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, read_by) REFERENCES staff (clinic_id, id)
);

CREATE TABLE card_assignments (
    treatment_id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    staff_id uuid NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, treatment_id) REFERENCES treatments (clinic_id, id) ON DELETE CASCADE,
    FOREIGN KEY (clinic_id, staff_id) REFERENCES staff (clinic_id, id)
);

-- The unread notes of a clinic, newest check-ins last.
CREATE INDEX check_ins_notes_idx ON check_ins (clinic_id, recorded_at) WHERE note IS NOT NULL;
