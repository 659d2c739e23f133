DROP TABLE audit_chains;
DROP FUNCTION audit_chains_forward_only();
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
