//! Web Push: the key a patient's app subscribes with, and the app's subscriptions, to which the
//! reminders go.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Json, created};
use crate::db::{self, Pool};
use crate::domain::Invalid;
use crate::domain::ids::PatientId;
use crate::domain::reminders::Language;
use crate::domain::targets::Targets;
use crate::domain::web_push::{check_endpoint, check_keys};
use crate::error::{ApiError, Problem};
use crate::services::push;
use crate::web::auth::Caller;

/// The VAPID public key, base64url; None when Web Push is not configured.
#[derive(Debug, Clone)]
pub struct PushKey(pub Option<String>);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"application_server_key": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"}))]
pub struct PushConfig {
    /// The `applicationServerKey` to subscribe with: the server's VAPID public key, base64url of
    /// the uncompressed P-256 point.
    pub application_server_key: String,
}

/// The browser's keys, as `PushSubscription.toJSON()` gives them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 key: base64url of the 65-byte uncompressed point.
    #[schema(pattern = "^[A-Za-z0-9_-]{87}=?$")]
    pub p256dh: String,
    /// The browser's authentication secret: base64url of 16 bytes.
    #[schema(pattern = "^[A-Za-z0-9_-]{22}(==)?$")]
    pub auth: String,
}

/// A browser's push subscription: `PushSubscription.toJSON()` as it comes, and the language the
/// reminders should be in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "endpoint": "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bHkZ3x",
    "expirationTime": null,
    "keys": {
        "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "auth": "BTBZMqHH6r4Tts7J_aSIgg"
    },
    "language": "de"
}))]
pub struct NewPushSubscription {
    /// The push service's URL for this browser: https, on the public internet, at most 2000
    /// characters.
    #[schema(max_length = 2000, pattern = "^https?://")]
    pub endpoint: String,
    /// As the browser gives it; not used (the push service says when a subscription is gone).
    #[serde(rename = "expirationTime")]
    #[schema(value_type = Option<f64>)]
    pub expiration_time: Option<f64>,
    pub keys: PushSubscriptionKeys,
    /// `en` or `de`: the language of the reminders. Left out, the request's `Accept-Language`
    /// decides, and English when it names neither.
    #[schema(example = "de", pattern = "^(en|de)$")]
    pub language: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushSubscription {
    pub id: Uuid,
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
}

impl From<db::push::Subscription> for PushSubscription {
    fn from(s: db::push::Subscription) -> Self {
        PushSubscription {
            id: s.id,
            endpoint: s.endpoint,
            created_at: s.created_at,
        }
    }
}

/// The key a patient's app subscribes to Web Push with.
///
/// 404 when this server has no VAPID key (Web Push is not configured): the app then offers no
/// reminders by push.
#[utoipa::path(
    tag = "push",
    responses(
        (status = 200, description = "The server's VAPID public key", body = PushConfig),
        (status = 404, description = "Web Push is not configured on this server", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:not-found", "title": "No such resource",
                             "status": 404, "detail": "nothing exists here, or it is not yours to see"}))
    )
)]
#[get("/v1/push/config")]
pub async fn config(key: web::Data<PushKey>) -> Result<web::Json<PushConfig>, ApiError> {
    let key = key.0.clone().ok_or(ApiError::NotFound)?;
    Ok(web::Json(PushConfig {
        application_server_key: key,
    }))
}

/// Subscribe the patient's phone to reminders (patients only).
///
/// The body is the browser's `PushSubscription` as JSON. On each scheduled check-in day without a
/// check-in by the clinic's reminder hour, one reminder is pushed to it, a JSON message
/// `{"type": "check_in.due", "title", "body", "url": "/app"}`. The same endpoint again answers the
/// subscription it made (200), with its keys and language brought up to date. Signing out of the
/// phone (`/v1/auth/logout`) drops the subscriptions made since its sign-in; a subscription the
/// push service says is gone is dropped too.
#[utoipa::path(
    tag = "push",
    request_body = NewPushSubscription,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed", body = PushSubscription, headers(("Location" = String))),
        (status = 200, description = "Subscribed before: the same subscription", body = PushSubscription),
        (status = 403, description = "Only a patient's app subscribes", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:forbidden", "title": "Your role may not do this",
                             "status": 403, "detail": "this operation is not open to your role"})),
        (status = 422, description = "An endpoint that is not https on the public internet, keys of the wrong \
            length or not on the curve, or an unknown language", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:validation", "title": "The request is not valid",
                             "status": 422, "detail": "2 fields are not valid", "errors": [
                {"field": "endpoint", "message": "must be an https URL"},
                {"field": "keys.auth", "message": "must be base64url of 16 bytes"}]}))
    )
)]
#[post("/v1/push-subscriptions")]
pub async fn subscribe(
    pool: web::Data<Pool>,
    targets: web::Data<Targets>,
    caller: Caller,
    req: HttpRequest,
    Json(body): Json<NewPushSubscription>,
) -> Result<HttpResponse, ApiError> {
    let patient_id = caller.id;
    let new = new_subscription(&body, &req, **targets, patient_id, caller.session)?;
    let (row, is_new) = db::run(&pool, move |conn| {
        push::subscribe(conn, caller.tenant, &new)
    })
    .await?;
    let location = format!("/v1/push-subscriptions/{}", row.id);
    let body = PushSubscription::from(row);
    Ok(if is_new {
        created(location, body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// Checks a subscription and makes the row to store.
fn new_subscription(
    body: &NewPushSubscription,
    req: &HttpRequest,
    targets: Targets,
    patient_id: Uuid,
    session_id: Option<Uuid>,
) -> Result<db::push::NewSubscription, ApiError> {
    let mut invalid = Invalid::default();
    check_endpoint(&mut invalid, "endpoint", &body.endpoint, targets);
    let keys = check_keys(&mut invalid, "keys", &body.keys.p256dh, &body.keys.auth);
    let language = match &body.language {
        Some(tag) => {
            let language = Language::parse(tag);
            invalid.check(language.is_some(), "language", "must be en or de");
            language
        }
        None => req
            .headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Language::from_tags),
    };
    invalid.into_result()?;
    let (p256dh, auth) = keys.ok_or_else(|| ApiError::invalid("keys", "are not valid"))?;
    Ok(db::push::NewSubscription {
        id: Uuid::new_v4(),
        patient_id: PatientId::from(patient_id),
        endpoint: body.endpoint.clone(),
        p256dh,
        auth,
        language: language.unwrap_or(Language::English),
        session_id: session_id.map(crate::domain::ids::SessionId::from),
        created_at: crate::domain::check_in::truncate_to_micros(Utc::now()),
    })
}

/// Unsubscribe a phone: no more reminders are pushed to it (the patient whose it is only).
#[utoipa::path(
    tag = "push",
    params(("id" = Uuid, Path, description = "The subscription")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unsubscribed"),
        (status = 403, description = "Only a patient's app unsubscribes", body = Problem,
            content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:forbidden", "title": "Your role may not do this",
                             "status": 403, "detail": "this operation is not open to your role"})),
        (status = 404, description = "No such subscription of yours (another patient's is answered so too)",
            body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:aftercare:problem:not-found", "title": "No such resource",
                             "status": 404, "detail": "nothing exists here, or it is not yours to see"}))
    )
)]
#[delete("/v1/push-subscriptions/{id}")]
pub async fn unsubscribe(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let patient_id = caller.id;
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        push::unsubscribe(conn, caller.tenant, PatientId::from(patient_id), id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
