-- A clinic's settings that its patients' app needs: the phone number to call when an answer needs
-- the clinic, and the hour of the clinic's day after which a patient who hasn't checked in on a
-- scheduled day is reminded.
ALTER TABLE clinics ADD COLUMN contact_phone text;
ALTER TABLE clinics ADD COLUMN reminder_hour smallint NOT NULL DEFAULT 18
    CHECK (reminder_hour BETWEEN 0 AND 23);
