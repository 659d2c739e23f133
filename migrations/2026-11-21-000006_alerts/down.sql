DROP TABLE alert_evidence;
DROP TABLE alerts;
