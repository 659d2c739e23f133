DROP TABLE outcomes;
DROP TABLE adverse_events;
