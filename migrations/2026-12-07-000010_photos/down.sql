DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events WHERE type = 'photo.received');
DELETE FROM webhook_events WHERE type = 'photo.received';
UPDATE webhooks SET events = array_remove(events, 'photo.received');
DELETE FROM webhooks WHERE cardinality(events) = 0;
ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['alert.raised', 'alert.resolved', 'check_in.created', 'adverse_event.recorded',
                        'patient.erased', 'check_in.due']
);
DROP TABLE photos;
