-- Fails, as it should, while one email is staff at two clinics.
ALTER TABLE staff DROP CONSTRAINT staff_email_key;
ALTER TABLE staff ADD CONSTRAINT staff_email_key UNIQUE (email);
