//! Webhooks at work: an event joins the outbox in the transaction of the change it tells of.

use chrono::Utc;
use diesel::PgConnection;
use diesel::QueryResult;
use uuid::Uuid;

use crate::db::{self, Tenant};
use crate::domain::check_in::truncate_to_micros;
use crate::domain::webhooks::Event;

/// Puts an event in the outbox, with a delivery for each webhook of the clinic that wants it. Call
/// it inside the transaction that makes the change, so that the event exists exactly when the
/// change does. Returns how many deliveries it queued.
pub fn enqueue(conn: &mut PgConnection, tenant: Tenant, event: &Event) -> QueryResult<usize> {
    let id = Uuid::new_v4();
    let at = truncate_to_micros(Utc::now());
    let payload = event
        .envelope(id, tenant.id(), at)
        .and_then(serde_json::to_value)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    db::webhooks::enqueue(conn, tenant, id, event.event_type().as_str(), &payload, at)
}
