DROP TABLE refresh_tokens;
DROP TABLE enrollment_codes;
DROP TABLE treatments;
DROP TABLE patients;
DROP TABLE protocols;
