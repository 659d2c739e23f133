//! Webhooks at work: an event joins the outbox in the transaction of the change it tells of, and a
//! worker delivers it, signed, retrying with exponential backoff until the delivery's deadline.
//! The claiming, pacing and retrying are [`delivery`]'s, shared with Web Push.

use std::time::Instant;

use chrono::Utc;
use diesel::{PgConnection, QueryResult};

use super::Stop;
use super::delivery::{self, NOT_SENT, Pace, Sender, outbound_client};
use crate::config::WebhookSettings;
use crate::db::webhooks::{Claimed, NewAttempt, Next};
use crate::db::{self, Pool};
use crate::domain::check_in::truncate_to_micros;
use crate::domain::webhooks::signature;

/// The headers of a delivery, documented for receivers in the OpenAPI document and the README.
pub const EVENT_ID: &str = "Aftercare-Event-Id";
pub const DELIVERY_ID: &str = "Aftercare-Delivery-Id";
pub const EVENT_TYPE: &str = "Aftercare-Event-Type";
pub const TIMESTAMP: &str = "Aftercare-Timestamp";
pub const SIGNATURE: &str = "Aftercare-Signature";

/// Sends webhook deliveries, signed.
struct Webhooks {
    client: reqwest::Client,
    settings: WebhookSettings,
}

/// Starts the delivery worker on the current Tokio runtime (actix-web's, or a test's), until `stop`.
pub fn spawn(
    pool: Pool,
    settings: WebhookSettings,
    stop: Stop,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let agent = concat!("Aftercare-Webhooks/", env!("CARGO_PKG_VERSION"));
    let client = outbound_client(settings.pace.timeout, settings.targets, agent)?;
    delivery::spawn(pool, Webhooks { client, settings }, stop)
}

impl Sender for Webhooks {
    type Item = Claimed;
    const ITEMS: &'static str = "webhook deliveries";

    fn pace(&self) -> Pace {
        self.settings.pace
    }

    fn claim(conn: &mut PgConnection, limit: i64, lease_ms: i64) -> QueryResult<Vec<Claimed>> {
        db::webhooks::claim(conn, limit, lease_ms)
    }

    /// One attempt: send, then log it and schedule what comes next.
    async fn deliver(&self, pool: &Pool, d: Claimed) {
        if !d.active {
            if let Err(e) = db::run(pool, move |conn| {
                Ok::<_, db::Error>(db::webhooks::abandon(conn, &d)?)
            })
            .await
            {
                tracing::warn!(error = %e, "failing a delivery of a deactivated webhook failed");
            }
            return;
        }
        let body = d.payload.to_string().into_bytes();
        let timestamp = Utc::now().timestamp();
        let attempted_at = truncate_to_micros(Utc::now());
        let started = Instant::now();
        // An address in the URL is not resolved, so the resolver never sees it: checked here, as
        // is the scheme (plain http is never sent outside local testing), in case the setting
        // changed since the URL was registered, or the URL was stored before the rule.
        let targets = self.settings.targets;
        let allowed = url::Url::parse(&d.url)
            .ok()
            .filter(|u| targets.allows_scheme(u.scheme()))
            .and_then(|u| u.host().map(|h| targets.allows_host(&h)))
            .unwrap_or(false);
        let sent: Result<reqwest::Response, BoxError> = async {
            if !allowed {
                return Err(NOT_SENT.into());
            }
            self.client
                .post(&d.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(EVENT_ID, d.event_id.to_string())
                .header(DELIVERY_ID, d.id.to_string())
                .header(EVENT_TYPE, d.event_type.as_str())
                .header(TIMESTAMP, timestamp.to_string())
                .header(SIGNATURE, signature(&d.secret, timestamp, &body))
                .body(body)
                .send()
                .await
                .map_err(Into::into)
        }
        .await;
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (http_status, error) = match sent {
            Ok(res) => (i16::try_from(res.status().as_u16()).ok(), None),
            Err(e) => {
                tracing::info!(delivery_id = %d.id, error = %describe(e), "webhook attempt got no answer");
                (None, Some(NO_ANSWER.to_string()))
            }
        };
        let now = Utc::now();
        let delivered = http_status.is_some_and(|s| (200..300).contains(&s));
        crate::web::metrics::METRICS
            .webhook_deliveries
            .with_label_values(&[if delivered { "delivered" } else { "failed" }])
            .inc();
        let next = if delivered {
            Next::Delivered(now)
        } else {
            self.pace()
                .retry_at(d.failures.saturating_add(1), now, d.deadline)
                .map_or(Next::Failed, Next::RetryAt)
        };
        let attempt = NewAttempt {
            delivery_id: d.id,
            attempted_at,
            http_status,
            error,
            duration_ms,
        };
        let (id, event_id) = (d.id, d.event_id);
        match db::run(pool, move |conn| {
            Ok::<_, db::Error>(db::webhooks::record(conn, &d, &attempt, next)?)
        })
        .await
        {
            Ok(true) => tracing::debug!(delivery_id = %id, %event_id, ?next, "webhook attempt"),
            Ok(false) => {
                tracing::info!(delivery_id = %id, "webhook attempt logged; the delivery was redelivered or deactivated meanwhile")
            }
            // The lease runs out and the delivery is sent again: at least once.
            Err(e) => {
                tracing::warn!(delivery_id = %id, error = %e, "recording a webhook attempt failed")
            }
        }
    }
}

/// What the delivery listing says of an attempt without an HTTP answer, whatever the cause: told
/// a refused connection from a timeout or a reset, webhooks would map the network they reach.
/// The cause is logged.
const NO_ANSWER: &str = "no HTTP answer";

/// Why there was no answer, for the log: the error and its causes, without the URL (it is in the
/// webhook, and may hold a token of the receiver's).
fn describe(e: BoxError) -> String {
    let e: BoxError = match e.downcast::<reqwest::Error>() {
        Ok(e) => Box::new(e.without_url()),
        Err(e) => e,
    };
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
