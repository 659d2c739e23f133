//! Registering a clinic's webhook, changing it, and sending a delivery again.

use chrono::Utc;
use diesel::{Connection, PgConnection};

use super::Error;
use crate::db::webhooks::{Attempt, Changes, DeliveryWithEvent, NewWebhook, Webhook};
use crate::db::{self, Tenant};
use crate::domain::ids::{DeliveryId, WebhookId};

/// Stores the clinic's new (checked) webhook.
pub fn register(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewWebhook,
) -> Result<Webhook, Error> {
    Ok(db::webhooks::insert(conn, tenant, new)?)
}

/// Applies the (checked) changes to the webhook: its address, its events, whether it is active.
pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: WebhookId,
    changes: &Changes,
) -> Result<Webhook, Error> {
    Ok(db::webhooks::update(conn, tenant, id, changes)?)
}

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
