DROP TABLE staff;
DROP TABLE clinics;
