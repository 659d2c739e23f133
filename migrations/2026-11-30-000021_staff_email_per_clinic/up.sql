-- A staff email is unique within its clinic, not across clinics: otherwise adding a colleague tells
-- a clinic whether the address is staff somewhere else. Sign-in finds the account by email and
-- password (and, when those match accounts at several clinics, by the clinic it names).
ALTER TABLE staff DROP CONSTRAINT staff_email_key;
ALTER TABLE staff ADD CONSTRAINT staff_email_key UNIQUE (clinic_id, email);
