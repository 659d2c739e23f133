DROP TABLE symptoms;
