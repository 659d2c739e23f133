//! Webhooks, the outbox of events, their deliveries and every attempt at one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Int4, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::outbox::{self, Outbox};
use super::schema::{webhook_attempts, webhook_deliveries, webhook_events, webhooks};
use super::{Cursor, PageRequest, Tenant};
use crate::domain::check_in::truncate_to_micros;
use crate::domain::ids::{DeliveryId, StaffId, WebhookId};
use crate::domain::webhooks::{DeliveryStatus, Event, EventType};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<Option<String>>,
    pub secret: String,
    pub active: bool,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<Option<String>>,
    pub secret: String,
    pub created_by: StaffId,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct Changes {
    pub url: Option<String>,
    pub events: Option<Vec<Option<String>>>,
    pub active: Option<bool>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &NewWebhook) -> QueryResult<Webhook> {
    diesel::insert_into(webhooks::table)
        .values((webhooks::clinic_id.eq(tenant.id()), new))
        .returning(Webhook::as_returning())
        .get_result(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: WebhookId) -> QueryResult<Webhook> {
    webhooks::table
        .filter(webhooks::clinic_id.eq(tenant.id()).and(webhooks::id.eq(id)))
        .select(Webhook::as_select())
        .first(conn)
}

/// The clinic's webhooks, oldest first.
pub fn page(
    conn: &mut PgConnection,
    tenant: Tenant,
    page: PageRequest,
) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .filter(webhooks::clinic_id.eq(tenant.id()))
        .select(Webhook::as_select())
        .order((webhooks::created_at, webhooks::id))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            webhooks::created_at
                .gt(at)
                .or(webhooks::created_at.eq(at).and(webhooks::id.gt(id))),
        );
    }
    query.load(conn)
}

const DEACTIVATED: &str = "the webhook was deactivated";

/// Changes a webhook. Deactivating it fails its pending deliveries: nothing more is sent to it.
pub fn update(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: WebhookId,
    changes: &Changes,
) -> QueryResult<Webhook> {
    conn.transaction(|conn| {
        let target =
            webhooks::table.filter(webhooks::clinic_id.eq(tenant.id()).and(webhooks::id.eq(id)));
        let webhook =
            if changes.url.is_none() && changes.events.is_none() && changes.active.is_none() {
                target.select(Webhook::as_select()).first(conn)?
            } else {
                diesel::update(target)
                    .set(changes)
                    .returning(Webhook::as_returning())
                    .get_result(conn)?
            };
        if !webhook.active {
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::webhook_id.eq(id))
                    .filter(webhook_deliveries::status.eq("pending")),
            )
            .set((
                webhook_deliveries::status.eq("failed"),
                webhook_deliveries::last_error.eq(DEACTIVATED),
            ))
            .execute(conn)?;
        }
        Ok(webhook)
    })
}

/// How long a delivery is retried after it is queued, or queued again.
pub const RETRY_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Puts an event in the outbox, with a delivery for each webhook of the clinic that wants it. Call
/// it inside the transaction that makes the change, so that the event exists exactly when the
/// change does. Returns how many deliveries it queued.
pub fn enqueue(conn: &mut PgConnection, tenant: Tenant, event: &Event) -> QueryResult<usize> {
    enqueue_all(conn, tenant, std::slice::from_ref(event))
}

/// Puts events in the outbox as `enqueue` does, all in one statement, so that they cost the
/// transaction they join one round trip; an event no webhook wants is not written.
pub fn enqueue_all(
    conn: &mut PgConnection,
    tenant: Tenant,
    events: &[Event],
) -> QueryResult<usize> {
    let at = truncate_to_micros(Utc::now());
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type().as_str()).collect();
    let payloads = events
        .iter()
        .zip(&ids)
        .map(|(e, id)| {
            e.envelope(*id, tenant.id().uuid(), at)
                .and_then(serde_json::to_value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::sql_query(
        "WITH hooks AS (
             SELECT id, events FROM webhooks WHERE clinic_id = $1 AND active
         ), event AS (
             INSERT INTO webhook_events (id, clinic_id, type, payload, created_at)
             SELECT e.id, $1, e.type, e.payload, $5
               FROM unnest($2::uuid[], $3::text[], $4::jsonb[]) AS e(id, type, payload)
              WHERE EXISTS (SELECT 1 FROM hooks WHERE e.type = ANY (hooks.events))
             RETURNING id, type
         )
         INSERT INTO webhook_deliveries
             (id, clinic_id, webhook_id, event_id, next_attempt_at, deadline, created_at)
         SELECT gen_random_uuid(), $1, hooks.id, event.id, $5, $5 + $6 * interval '1 second', $5
           FROM event JOIN hooks ON event.type = ANY (hooks.events)",
    )
    .bind::<SqlUuid, _>(tenant.id())
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
    .bind::<diesel::sql_types::Array<Text>, _>(&types)
    .bind::<diesel::sql_types::Array<Jsonb>, _>(&payloads)
    .bind::<Timestamptz, _>(at)
    .bind::<BigInt, _>(RETRY_FOR.num_seconds())
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_id: Uuid,
    pub status: DeliveryStatus,
    pub failures: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with its event's type and body.
pub type DeliveryWithEvent = (Delivery, EventType, serde_json::Value);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub delivery_id: DeliveryId,
    pub attempted_at: DateTime<Utc>,
    pub http_status: Option<i16>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// A webhook's deliveries, newest first, of one status if given.
pub fn deliveries(
    conn: &mut PgConnection,
    tenant: Tenant,
    webhook_id: WebhookId,
    status: Option<&str>,
    page: PageRequest,
) -> QueryResult<Vec<DeliveryWithEvent>> {
    let mut query = webhook_deliveries::table
        .inner_join(webhook_events::table.on(webhook_events::id.eq(webhook_deliveries::event_id)))
        .filter(webhook_deliveries::clinic_id.eq(tenant.id()))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select((
            Delivery::as_select(),
            webhook_events::type_,
            webhook_events::payload,
        ))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.to_string()));
    }
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            webhook_deliveries::created_at
                .lt(at)
                .or(webhook_deliveries::created_at
                    .eq(at)
                    .and(webhook_deliveries::id.lt(id))),
        );
    }
    query.load(conn)
}

pub fn delivery(
    conn: &mut PgConnection,
    tenant: Tenant,
    webhook_id: WebhookId,
    id: DeliveryId,
) -> QueryResult<DeliveryWithEvent> {
    webhook_deliveries::table
        .inner_join(webhook_events::table.on(webhook_events::id.eq(webhook_deliveries::event_id)))
        .filter(webhook_deliveries::clinic_id.eq(tenant.id()))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::id.eq(id))
        .select((
            Delivery::as_select(),
            webhook_events::type_,
            webhook_events::payload,
        ))
        .first(conn)
}

/// The attempts at these deliveries, oldest first.
pub fn attempts(
    conn: &mut PgConnection,
    tenant: Tenant,
    delivery_ids: &[DeliveryId],
) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .inner_join(webhook_deliveries::table)
        .filter(webhook_deliveries::clinic_id.eq(tenant.id()))
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .select(Attempt::as_select())
        .order((webhook_attempts::attempted_at, webhook_attempts::id))
        .load(conn)
}

/// Queues a delivery again: due now, retried for another 24 hours.
pub fn redeliver(
    conn: &mut PgConnection,
    tenant: Tenant,
    webhook_id: WebhookId,
    id: DeliveryId,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::clinic_id.eq(tenant.id()))
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::failures.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::deadline.eq(now + RETRY_FOR),
        webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
}

/// A delivery a worker has taken, with what it needs to send it. (Not `Debug`: it holds the secret.)
#[derive(Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: DeliveryId,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: EventType,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    #[diesel(sql_type = Int4)]
    pub failures: i32,
    #[diesel(sql_type = Timestamptz)]
    pub deadline: DateTime<Utc>,
    /// False when the webhook was deactivated after the delivery was queued: it is not sent.
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// Its `next_attempt_at` as the claim left it: the attempt's result is recorded only while it
    /// still says this, i.e. while no one redelivered it or took it over after the lease ran out.
    #[diesel(sql_type = Timestamptz)]
    pub leased_until: DateTime<Utc>,
}

/// Takes up to `limit` due deliveries and leases them for `lease_ms` ([`outbox::claim`]). No
/// tenant: the delivery worker serves every clinic, and each delivery carries its endpoint.
pub fn claim(conn: &mut PgConnection, limit: i64, lease_ms: i64) -> QueryResult<Vec<Claimed>> {
    let queue = Outbox {
        table: "webhook_deliveries",
        joins: "JOIN webhooks w ON w.id = p.webhook_id
                JOIN webhook_events e ON e.id = p.event_id",
        taking: "w.url, w.secret, w.active, e.type AS event_type, e.payload",
        returning: "d.id, d.event_id, due.event_type, due.payload, due.url, due.secret,
                    d.failures, d.deadline, due.active",
    };
    outbox::claim(conn, &queue, limit, lease_ms)
}

/// One attempt at a delivery, as it went.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct NewAttempt {
    pub delivery_id: DeliveryId,
    pub attempted_at: DateTime<Utc>,
    pub http_status: Option<i16>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered(DateTime<Utc>),
    RetryAt(DateTime<Utc>),
    Failed,
}

/// Logs an attempt and moves the delivery on, if the claim still holds. Returns whether it did.
/// No tenant, here or in `abandon`: the claim came from `claim`.
pub fn record(
    conn: &mut PgConnection,
    claimed: &Claimed,
    attempt: &NewAttempt,
    next: Next,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        diesel::insert_into(webhook_attempts::table)
            .values(attempt)
            .execute(conn)?;
        let target = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(claimed.id))
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::next_attempt_at.eq(claimed.leased_until));
        let last = (
            webhook_deliveries::last_status.eq(attempt.http_status),
            webhook_deliveries::last_error.eq(attempt.error.as_deref()),
        );
        let updated = match next {
            Next::Delivered(at) => diesel::update(target)
                .set((
                    last,
                    webhook_deliveries::status.eq("delivered"),
                    webhook_deliveries::delivered_at.eq(at),
                ))
                .execute(conn)?,
            Next::RetryAt(at) => diesel::update(target)
                .set((
                    last,
                    webhook_deliveries::failures.eq(claimed.failures + 1),
                    webhook_deliveries::next_attempt_at.eq(at),
                ))
                .execute(conn)?,
            Next::Failed => diesel::update(target)
                .set((
                    last,
                    webhook_deliveries::failures.eq(claimed.failures + 1),
                    webhook_deliveries::status.eq("failed"),
                ))
                .execute(conn)?,
        };
        Ok(updated == 1)
    })
}

/// Fails a claimed delivery without an attempt: its webhook was deactivated.
pub fn abandon(conn: &mut PgConnection, claimed: &Claimed) -> QueryResult<bool> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(claimed.id))
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::next_attempt_at.eq(claimed.leased_until)),
    )
    .set((
        webhook_deliveries::status.eq("failed"),
        webhook_deliveries::last_error.eq(DEACTIVATED),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
