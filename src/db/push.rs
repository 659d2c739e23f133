//! Web Push: patients' subscriptions, and the push outbox the delivery worker sends from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Int4, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::Tenant;
use super::outbox::{self, Outbox};
use super::schema::{push_deliveries, push_subscriptions};
use crate::domain::ids::{PatientId, SessionId};
use crate::domain::reminders::Language;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = push_subscriptions)]
pub struct Subscription {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub endpoint: String,
    pub language: Language,
    pub created_at: DateTime<Utc>,
}

/// A new subscription; the clinic comes from the tenant.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
    pub language: Language,
    pub session_id: Option<SessionId>,
    pub created_at: DateTime<Utc>,
}

/// Stores the subscription, or, when the patient has one for this endpoint already, brings that
/// one up to date (keys, language, session). Returns it, and whether it is new.
pub fn subscribe(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewSubscription,
) -> QueryResult<(Subscription, bool)> {
    let row = diesel::insert_into(push_subscriptions::table)
        .values((
            push_subscriptions::id.eq(new.id),
            push_subscriptions::clinic_id.eq(tenant.id()),
            push_subscriptions::patient_id.eq(new.patient_id),
            push_subscriptions::endpoint.eq(&new.endpoint),
            push_subscriptions::p256dh.eq(&new.p256dh),
            push_subscriptions::auth.eq(&new.auth),
            push_subscriptions::language.eq(new.language),
            push_subscriptions::session_id.eq(new.session_id),
            push_subscriptions::created_at.eq(new.created_at),
        ))
        .on_conflict((push_subscriptions::patient_id, push_subscriptions::endpoint))
        .do_update()
        .set((
            push_subscriptions::p256dh.eq(&new.p256dh),
            push_subscriptions::auth.eq(&new.auth),
            push_subscriptions::language.eq(new.language),
            push_subscriptions::session_id.eq(new.session_id),
        ))
        .returning(Subscription::as_returning())
        .get_result(conn)?;
    let created = row.id == new.id;
    Ok((row, created))
}

/// Deletes the patient's subscription; how many rows went (0 or 1).
pub fn delete(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        push_subscriptions::table
            .filter(push_subscriptions::clinic_id.eq(tenant.id()))
            .filter(push_subscriptions::patient_id.eq(patient_id))
            .filter(push_subscriptions::id.eq(id)),
    )
    .execute(conn)
}

/// Deletes the subscriptions made in a sign-in (a phone signing out).
pub fn delete_of_session(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    session_id: SessionId,
) -> QueryResult<usize> {
    diesel::delete(
        push_subscriptions::table
            .filter(push_subscriptions::clinic_id.eq(tenant.id()))
            .filter(push_subscriptions::patient_id.eq(patient_id))
            .filter(push_subscriptions::session_id.eq(session_id)),
    )
    .execute(conn)
}

/// Deletes every subscription of the patient (an un-enrolled patient is reminded no more).
pub fn delete_of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
) -> QueryResult<usize> {
    diesel::delete(
        push_subscriptions::table
            .filter(push_subscriptions::clinic_id.eq(tenant.id()))
            .filter(push_subscriptions::patient_id.eq(patient_id)),
    )
    .execute(conn)
}

/// The patient's subscriptions: their ids and languages.
pub fn of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
) -> QueryResult<Vec<(Uuid, Language)>> {
    push_subscriptions::table
        .filter(push_subscriptions::clinic_id.eq(tenant.id()))
        .filter(push_subscriptions::patient_id.eq(patient_id))
        .order(push_subscriptions::created_at)
        .select((push_subscriptions::id, push_subscriptions::language))
        .load(conn)
}

/// Puts a message for a subscription in the push outbox, to be sent until `deadline`.
pub fn enqueue(
    conn: &mut PgConnection,
    tenant: Tenant,
    subscription_id: Uuid,
    payload: &serde_json::Value,
    deadline: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(push_deliveries::table)
        .values((
            push_deliveries::id.eq(Uuid::new_v4()),
            push_deliveries::clinic_id.eq(tenant.id()),
            push_deliveries::subscription_id.eq(subscription_id),
            push_deliveries::payload.eq(payload),
            push_deliveries::deadline.eq(deadline),
        ))
        .execute(conn)
}

/// A message a worker has taken, with the subscription it goes to. (Not `Debug`: it holds the
/// browser's keys.)
#[derive(Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub subscription_id: Uuid,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub endpoint: String,
    #[diesel(sql_type = Bytea)]
    pub p256dh: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    pub auth: Vec<u8>,
    #[diesel(sql_type = Int4)]
    pub failures: i32,
    #[diesel(sql_type = Timestamptz)]
    pub deadline: DateTime<Utc>,
    /// Its `next_attempt_at` as the claim left it: what comes of the attempt is recorded only
    /// while it still says this.
    #[diesel(sql_type = Timestamptz)]
    pub leased_until: DateTime<Utc>,
}

/// Takes up to `limit` due messages and leases them for `lease_ms` ([`outbox::claim`]). No
/// tenant: the worker serves every clinic.
pub fn claim(conn: &mut PgConnection, limit: i64, lease_ms: i64) -> QueryResult<Vec<Claimed>> {
    let queue = Outbox {
        table: "push_deliveries",
        joins: "JOIN push_subscriptions s ON s.id = p.subscription_id",
        taking: "s.endpoint, s.p256dh, s.auth",
        returning: "d.id, d.subscription_id, d.payload, due.endpoint, due.p256dh, due.auth,
                    d.failures, d.deadline",
    };
    outbox::claim(conn, &queue, limit, lease_ms)
}

/// What becomes of a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Sent(DateTime<Utc>),
    RetryAt(DateTime<Utc>),
    Failed,
    /// The push service says the subscription is gone (404, 410): it is deleted, with its messages.
    Gone,
}

/// Records what came of an attempt, if the claim still holds; whether it did. No tenant: the
/// claim came from `claim`.
pub fn record(
    conn: &mut PgConnection,
    claimed: &Claimed,
    status: Option<i16>,
    next: Next,
) -> QueryResult<bool> {
    let target = push_deliveries::table
        .filter(push_deliveries::id.eq(claimed.id))
        .filter(push_deliveries::status.eq("pending"))
        .filter(push_deliveries::next_attempt_at.eq(claimed.leased_until));
    let last = push_deliveries::last_status.eq(status);
    let failures = push_deliveries::failures.eq(claimed.failures + 1);
    let updated = match next {
        Next::Sent(at) => diesel::update(target)
            .set((
                last,
                push_deliveries::status.eq("sent"),
                push_deliveries::sent_at.eq(at),
            ))
            .execute(conn)?,
        Next::RetryAt(at) => diesel::update(target)
            .set((last, failures, push_deliveries::next_attempt_at.eq(at)))
            .execute(conn)?,
        Next::Failed => diesel::update(target)
            .set((last, failures, push_deliveries::status.eq("failed")))
            .execute(conn)?,
        Next::Gone => diesel::delete(
            super::schema::push_subscriptions::table
                .filter(push_subscriptions::id.eq(claimed.subscription_id)),
        )
        .execute(conn)?,
    };
    Ok(updated == 1)
}
