-- Webhooks subscribed to erasures lose that event type.
UPDATE webhooks SET events = array_remove(events, 'patient.erased') WHERE 'patient.erased' = ANY (events);
DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d
    JOIN webhook_events e ON e.id = d.event_id WHERE e.type = 'patient.erased');
DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events WHERE type = 'patient.erased');
DELETE FROM webhook_events WHERE type = 'patient.erased';
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded']
);
DROP TRIGGER treatments_log_deletion ON treatments;
DROP FUNCTION log_treatment_deletion();
DROP TABLE treatment_deletions;
DROP TABLE patient_erasures;
