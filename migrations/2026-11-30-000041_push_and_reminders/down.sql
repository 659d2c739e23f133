-- Webhooks subscribed to reminders lose that event type (one that heard of nothing else goes).
UPDATE webhooks SET events = array_remove(events, 'check_in.due') WHERE 'check_in.due' = ANY (events);
CREATE TEMPORARY TABLE gone_deliveries AS
    SELECT id FROM webhook_deliveries
     WHERE event_id IN (SELECT id FROM webhook_events WHERE type = 'check_in.due')
        OR webhook_id IN (SELECT id FROM webhooks WHERE cardinality(events) = 0);
DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM gone_deliveries);
DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM gone_deliveries);
DROP TABLE gone_deliveries;
DELETE FROM webhook_events WHERE type = 'check_in.due';
DELETE FROM webhooks WHERE cardinality(events) = 0;
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded',
                        'patient.erased']
);
DROP TABLE push_deliveries;
DROP TABLE reminders;
DROP TABLE push_subscriptions;
