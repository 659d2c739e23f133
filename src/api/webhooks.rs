//! Webhooks (admins only): the endpoints that hear of the clinic's events, their deliveries with
//! every attempt, and redelivery.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::created;
use super::extract::{Json, Page, PageParams};
use crate::db::{self, Cursor, Pool, into_page};
use crate::domain::Invalid;
use crate::domain::ids::{DeliveryId, StaffId, WebhookId};
use crate::domain::targets::Targets;
use crate::domain::webhooks::{DeliveryStatus, EventType, check_events, check_secret, check_url};
use crate::error::{ApiError, Problem};
use crate::services;
use crate::web::auth::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://integrations.clinic.example/aftercare",
    "events": ["alert.raised", "alert.resolved"],
    "secret": "whsec-4f1c9e2b7d3a8f60a5e1c3b9"
}))]
pub struct NewWebhook {
    /// An absolute https URL on the public internet, at most 2000 characters. Plain http (and
    /// private addresses) only where the service is run for local testing
    /// (`AFTERCARE_WEBHOOK_ALLOW_PRIVATE`); otherwise a 422.
    #[schema(
        pattern = "^https?://([A-Za-z][A-Za-z0-9-]*(\\.[A-Za-z][A-Za-z0-9-]*)*|((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~/?=&-]*)?$",
        max_length = 2000
    )]
    pub url: String,
    /// One or more of the event types (one named twice counts once).
    #[schema(min_items = 1)]
    pub events: Vec<EventType>,
    /// Keys the signature of every delivery: 16-200 characters, no white space. Left out, one is
    /// made (64 hex digits). Either way it is shown in this response only.
    #[schema(min_length = 16, max_length = 200, pattern = "^\\S+$")]
    pub secret: Option<String>,
}

/// Changes to a webhook: a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct WebhookPatch {
    #[schema(
        pattern = "^https?://([A-Za-z][A-Za-z0-9-]*(\\.[A-Za-z][A-Za-z0-9-]*)*|((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~/?=&-]*)?$",
        max_length = 2000
    )]
    pub url: Option<String>,
    /// One or more of the event types, in place of the webhook's.
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventType>>,
    /// `false` stops deliveries: no new ones are queued, and pending ones fail. `true` resumes
    /// with the events that happen from then on.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<EventType>,
    pub active: bool,
    /// The admin who registered it.
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<db::webhooks::Webhook> for Webhook {
    fn from(w: db::webhooks::Webhook) -> Self {
        Webhook {
            id: w.id.uuid(),
            url: w.url,
            events: w
                .events
                .iter()
                .flatten()
                .filter_map(|e| EventType::parse(e))
                .collect(),
            active: w.active,
            created_by: w.created_by.uuid(),
            created_at: w.created_at,
        }
    }
}

/// A new webhook, with the secret that signs its deliveries: this is the only time it is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; null when there was no answer.
    pub http_status: Option<u16>,
    /// Why there was no answer (a refused connection, a timeout).
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// One event sent to one webhook, with every attempt at it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// Sent as `Aftercare-Delivery-Id`.
    pub id: Uuid,
    /// Sent as `Aftercare-Event-Id`: the same in every attempt and redelivery.
    pub event_id: Uuid,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    /// The HTTP status of the latest attempt.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Retried until then.
    pub deadline: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub attempts: Vec<DeliveryAttempt>,
    /// The body sent (a `WebhookPayload`).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

fn delivery(
    (d, event_type, payload): db::webhooks::DeliveryWithEvent,
    attempts: &[db::webhooks::Attempt],
) -> Delivery {
    let status = d.status;
    Delivery {
        id: d.id.uuid(),
        event_id: d.event_id,
        event_type,
        status,
        last_status: d.last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: d.last_error,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
        deadline: d.deadline,
        delivered_at: d.delivered_at,
        created_at: d.created_at,
        attempts: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(|a| DeliveryAttempt {
                at: a.attempted_at,
                http_status: a.http_status.and_then(|s| u16::try_from(s).ok()),
                error: a.error.clone(),
                duration_ms: a.duration_ms,
            })
            .collect(),
        payload,
    }
}

/// 256 random bits, as hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The event types as stored: each once, in the order first given.
fn events(events: &[EventType]) -> Vec<Option<String>> {
    let mut stored: Vec<Option<String>> = vec![];
    for e in events {
        let e = Some(e.as_str().to_string());
        if !stored.contains(&e) {
            stored.push(e);
        }
    }
    stored
}

/// Register a webhook. The answer holds its signing secret, which is not shown again.
///
/// The URL must be on the public internet: a loopback, private, link-local or other non-public
/// address, or `localhost`, is refused (422), and a name is checked again on every address it
/// resolves to when a delivery is sent. An attempt without an HTTP answer is listed as such,
/// whatever the cause.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhook,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = CreatedWebhook, headers(("Location" = String))))
)]
#[post("/v1/webhooks")]
pub async fn create(
    pool: web::Data<Pool>,
    targets: web::Data<Targets>,
    caller: Caller,
    Json(req): Json<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    let admin_id = StaffId::from(caller.id);
    let mut invalid = Invalid::default();
    check_url(&mut invalid, "url", &req.url, **targets);
    check_events(&mut invalid, "events", &req.events);
    if let Some(secret) = &req.secret {
        check_secret(&mut invalid, "secret", secret);
    }
    invalid.into_result()?;
    let new = db::webhooks::NewWebhook {
        id: WebhookId::new_v4(),
        url: req.url,
        events: events(&req.events),
        secret: req.secret.unwrap_or_else(new_secret),
        created_by: admin_id,
    };
    let row = db::run(&pool, move |conn| {
        services::webhooks::register(conn, caller.tenant, &new)
    })
    .await?;
    let secret = row.secret.clone();
    Ok(created(
        format!("/v1/webhooks/{}", row.id),
        CreatedWebhook {
            webhook: row.into(),
            secret,
        },
    ))
}

/// The clinic's webhooks, oldest first.
#[utoipa::path(
    tag = "webhooks",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of webhooks", body = Page<Webhook>))
)]
#[get("/v1/webhooks")]
pub async fn list(
    pool: web::Data<Pool>,
    caller: Caller,
    params: web::Query<PageParams>,
) -> Result<web::Json<Page<Webhook>>, ApiError> {
    let page = params.request()?;
    let rows = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::webhooks::page(conn, caller.tenant, page)?)
    })
    .await?;
    let (rows, next) = into_page(rows, page, |w| Cursor {
        at: w.created_at,
        id: w.id.uuid(),
    });
    Ok(web::Json(Page::new(rows, next, Webhook::from)))
}

/// One webhook.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The webhook", body = Webhook))
)]
#[get("/v1/webhooks/{id}")]
pub async fn get(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Webhook>, ApiError> {
    let id = id.into_inner();
    let row = db::run(&pool, move |conn| {
        Ok::<_, ApiError>(db::webhooks::get(conn, caller.tenant, WebhookId::from(id))?)
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Change a webhook's URL or events, or deactivate (`"active": false`) and reactivate it.
/// Deactivated, it gets nothing: its pending deliveries fail, and can be redelivered once it is
/// active again.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path)),
    request_body = WebhookPatch,
    security(("bearer" = [])),
    responses((status = 200, description = "The changed webhook", body = Webhook))
)]
#[patch("/v1/webhooks/{id}")]
pub async fn update(
    pool: web::Data<Pool>,
    targets: web::Data<Targets>,
    caller: Caller,
    id: web::Path<Uuid>,
    Json(req): Json<WebhookPatch>,
) -> Result<web::Json<Webhook>, ApiError> {
    let id = id.into_inner();
    let mut invalid = Invalid::default();
    if let Some(url) = &req.url {
        check_url(&mut invalid, "url", url, **targets);
    }
    if let Some(e) = &req.events {
        check_events(&mut invalid, "events", e);
    }
    invalid.into_result()?;
    let changes = db::webhooks::Changes {
        url: req.url,
        events: req.events.as_deref().map(events),
        active: req.active,
    };
    let row = db::run(&pool, move |conn| {
        services::webhooks::update(conn, caller.tenant, WebhookId::from(id), &changes)
    })
    .await?;
    Ok(web::Json(row.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only the deliveries in this status.
    pub status: Option<DeliveryStatus>,
}

/// A webhook's deliveries, newest first, each with its attempts.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The webhook"), DeliveryFilter, PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>))
)]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn deliveries(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
    filter: web::Query<DeliveryFilter>,
    params: web::Query<PageParams>,
    req: HttpRequest,
) -> Result<web::Json<Page<Delivery>>, ApiError> {
    let webhook_id = id.into_inner();
    let page = params.request()?;
    let status = filter.status;
    let (rows, attempts) = db::run(&pool, move |conn| {
        db::webhooks::get(conn, caller.tenant, WebhookId::from(webhook_id))?;
        let rows = db::webhooks::deliveries(
            conn,
            caller.tenant,
            WebhookId::from(webhook_id),
            status.map(DeliveryStatus::as_str),
            page,
        )?;
        let ids: Vec<DeliveryId> = rows.iter().map(|(d, _, _)| d.id).collect();
        Ok::<_, ApiError>((rows, db::webhooks::attempts(conn, caller.tenant, &ids)?))
    })
    .await?;
    let (rows, next) = into_page(rows, page, |(d, _, _)| Cursor {
        at: d.created_at,
        id: d.id.uuid(),
    });
    let page = Page::new(rows, next, |row| delivery(row, &attempts));
    crate::api::trail::shown(&req, page.items.iter().filter_map(patient_of));
    Ok(web::Json(page))
}

/// The patient a delivery's event is about: every event's data names one.
fn patient_of(d: &Delivery) -> Option<Uuid> {
    d.payload["data"]["patient_id"].as_str()?.parse().ok()
}

/// One delivery, with its attempts.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The webhook"), ("delivery_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The delivery", body = Delivery))
)]
#[get("/v1/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn get_delivery(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    req: HttpRequest,
) -> Result<web::Json<Delivery>, ApiError> {
    let (webhook_id, id) = path.into_inner();
    let (row, attempts) = db::run(&pool, move |conn| {
        let (webhook_id, id) = (WebhookId::from(webhook_id), DeliveryId::from(id));
        let row = db::webhooks::delivery(conn, caller.tenant, webhook_id, id)?;
        Ok::<_, ApiError>((row, db::webhooks::attempts(conn, caller.tenant, &[id])?))
    })
    .await?;
    let delivery = delivery(row, &attempts);
    crate::api::trail::shown(&req, patient_of(&delivery));
    Ok(web::Json(delivery))
}

/// Send a delivery again, with the same event id: it is due at once and retried for another 24
/// hours. Whether it was delivered or failed, or is still pending, makes no difference.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The webhook"), ("delivery_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = Delivery),
        (status = 409, description = "The webhook is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    pool: web::Data<Pool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (webhook_id, id) = path.into_inner();
    let (row, attempts) = db::run(&pool, move |conn| {
        let (webhook_id, id) = (WebhookId::from(webhook_id), DeliveryId::from(id));
        services::webhooks::redeliver(conn, caller.tenant, webhook_id, id)
    })
    .await?;
    let delivery = delivery(row, &attempts);
    crate::api::trail::shown(&req, patient_of(&delivery));
    Ok(HttpResponse::Accepted().json(delivery))
}

#[cfg(test)]
mod tests {
    /// The document states the rule the service checks.
    #[test]
    fn the_documented_url_pattern_is_the_one_checked() {
        let doc = serde_json::to_value(crate::api::openapi()).unwrap_or_default();
        for schema in ["NewWebhook", "WebhookPatch"] {
            let pattern = doc
                .pointer(&format!(
                    "/components/schemas/{schema}/properties/url/pattern"
                ))
                .and_then(|p| p.as_str());
            assert_eq!(
                pattern,
                Some(crate::domain::webhooks::URL_PATTERN),
                "{schema}"
            );
        }
    }
}
