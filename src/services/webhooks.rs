//! Sending a webhook delivery again.

use chrono::Utc;
use diesel::{Connection, PgConnection};

use super::Error;
use crate::db::webhooks::{Attempt, DeliveryWithEvent};
use crate::db::{self, Tenant};
use crate::domain::ids::{DeliveryId, WebhookId};

/// Makes a delivery due again at once, with the same event id, and returns it with its attempts.
/// A 409 when the webhook is not active, a 404 when it has no such delivery.
pub fn redeliver(
    conn: &mut PgConnection,
    tenant: Tenant,
    webhook_id: WebhookId,
    id: DeliveryId,
) -> Result<(DeliveryWithEvent, Vec<Attempt>), Error> {
    conn.transaction(|conn| {
        if !db::webhooks::get(conn, tenant, webhook_id)?.active {
            return Err(Error::Conflict(
                "the webhook is not active: activate it first".into(),
            ));
        }
        if db::webhooks::redeliver(conn, tenant, webhook_id, id, Utc::now())? == 0 {
            return Err(Error::NotFound);
        }
        let row = db::webhooks::delivery(conn, tenant, webhook_id, id)?;
        Ok((row, db::webhooks::attempts(conn, tenant, &[id])?))
    })
}
