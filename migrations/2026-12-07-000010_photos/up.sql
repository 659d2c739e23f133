-- Photos a patient sends with a check-in. Their bytes are in the photo store (services::photo_store:
-- a folder or an S3 bucket), never in a row: a row holds what is known of the photo and the
-- unguessable keys of its two objects, the photo as re-encoded and its thumbnail.
CREATE TABLE photos (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    check_in_id uuid NOT NULL REFERENCES check_ins (id),
    storage_key text NOT NULL UNIQUE,
    thumbnail_key text NOT NULL UNIQUE,
    content_type text NOT NULL,
    width int NOT NULL CHECK (width > 0),
    height int NOT NULL CHECK (height > 0),
    bytes bigint NOT NULL CHECK (bytes > 0),
    -- Consent, per photo: clinical use is what a photo is sent under, so it is always there; the
    -- clinic's before-and-after use is optional, given with the photo or later, and the patient may
    -- withdraw it (then consented_at is NULL and withdrawn_at says when).
    clinical_use_consented_at timestamptz NOT NULL,
    before_after_consented_at timestamptz,
    before_after_withdrawn_at timestamptz,
    -- A clinician asking a colleague to look at it.
    flagged_by uuid,
    flagged_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, flagged_by) REFERENCES staff (clinic_id, id),
    CHECK ((flagged_by IS NULL) = (flagged_at IS NULL))
);
CREATE INDEX photos_patient_idx ON photos (clinic_id, patient_id, created_at);
CREATE INDEX photos_check_in_idx ON photos (check_in_id);

-- Webhooks may hear of photos (`photo.received`, with ids only).
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded',
                        'patient.erased', 'check_in.due', 'photo.received']
);
