ALTER TABLE clinics DROP COLUMN reminder_hour;
ALTER TABLE clinics DROP COLUMN contact_phone;
