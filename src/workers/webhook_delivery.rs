//! Webhooks at work: an event joins the outbox in the transaction of the change it tells of, and a
//! worker delivers it, signed, retrying with exponential backoff until the delivery's deadline.
//!
//! The worker runs on the async runtime but never blocks it (diesel runs on the blocking pool), and
//! shares nothing with request handling but the connection pool: a receiver that is down or slow
//! holds up only its own deliveries.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use tokio::sync::Semaphore;

use crate::config::WebhookSettings;
use crate::db::webhooks::{Claimed, NewAttempt, Next};
use crate::db::{self, Pool};
use crate::domain::check_in::truncate_to_micros;
use crate::domain::webhooks::{backoff, signature};

/// The headers of a delivery, documented for receivers in the OpenAPI document and the README.
pub const EVENT_ID: &str = "Aftercare-Event-Id";
pub const DELIVERY_ID: &str = "Aftercare-Delivery-Id";
pub const EVENT_TYPE: &str = "Aftercare-Event-Type";
pub const TIMESTAMP: &str = "Aftercare-Timestamp";
pub const SIGNATURE: &str = "Aftercare-Signature";

/// How much longer than one attempt's timeout a claim holds, for the bookkeeping around it.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

struct Worker {
    pool: Pool,
    client: reqwest::Client,
    settings: WebhookSettings,
}

/// Starts the delivery worker on the current Tokio runtime (actix-web's, or a test's).
pub fn spawn(pool: Pool, settings: WebhookSettings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Handle::try_current()
        .context("the webhook worker must be started inside a Tokio runtime")?;
    let client = reqwest::Client::builder()
        .timeout(settings.timeout)
        // A redirect is an answer that is not 2xx: it is not followed, the delivery is retried.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Aftercare-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the webhook HTTP client")?;
    let worker = Arc::new(Worker {
        pool,
        client,
        settings,
    });
    runtime.spawn(worker.run());
    Ok(())
}

impl Worker {
    /// Takes what is due, as many as there are free slots, and sends each on a task of its own;
    /// looks again after the poll interval, or at once when it found a full batch.
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let lease = self.settings.timeout + LEASE_MARGIN;
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        loop {
            let free = slots.available_permits();
            let mut full = false;
            if free > 0 {
                let limit = i64::try_from(free).unwrap_or(i64::MAX);
                match db::run(&self.pool, move |conn| {
                    Ok(db::webhooks::claim(conn, limit, lease_ms)?)
                })
                .await
                {
                    Ok(due) => {
                        full = due.len() == free;
                        for delivery in due {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let worker = self.clone();
                            tokio::spawn(async move {
                                worker.deliver(delivery).await;
                                drop(slot);
                            });
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "taking due webhook deliveries failed; trying again")
                    }
                }
            }
            if !full {
                tokio::time::sleep(self.settings.poll_interval).await;
            }
        }
    }

    /// One attempt: send, then log it and schedule what comes next.
    async fn deliver(&self, d: Claimed) {
        if !d.active {
            if let Err(e) =
                db::run(&self.pool, move |conn| Ok(db::webhooks::abandon(conn, &d)?)).await
            {
                tracing::warn!(error = %e, "failing a delivery of a deactivated webhook failed");
            }
            return;
        }
        let body = d.payload.to_string().into_bytes();
        let timestamp = Utc::now().timestamp();
        let attempted_at = truncate_to_micros(Utc::now());
        let started = Instant::now();
        let sent = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID, d.event_id.to_string())
            .header(DELIVERY_ID, d.id.to_string())
            .header(EVENT_TYPE, d.event_type.as_str())
            .header(TIMESTAMP, timestamp.to_string())
            .header(SIGNATURE, signature(&d.secret, timestamp, &body))
            .body(body)
            .send()
            .await;
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (http_status, error) = match sent {
            Ok(res) => (i16::try_from(res.status().as_u16()).ok(), None),
            Err(e) => (None, Some(describe(e, self.settings.timeout))),
        };
        let now = Utc::now();
        let delivered = http_status.is_some_and(|s| (200..300).contains(&s));
        crate::metrics::METRICS
            .webhook_deliveries
            .with_label_values(&[if delivered { "delivered" } else { "failed" }])
            .inc();
        let next = if delivered {
            Next::Delivered(now)
        } else {
            let failures = u32::try_from(d.failures).unwrap_or(0).saturating_add(1);
            let wait = backoff(failures, self.settings.retry_base, self.settings.retry_cap);
            match chrono::Duration::from_std(wait).map(|w| now + w) {
                Ok(at) if at <= d.deadline => Next::RetryAt(at),
                _ => Next::Failed,
            }
        };
        let attempt = NewAttempt {
            delivery_id: d.id,
            attempted_at,
            http_status,
            error,
            duration_ms,
        };
        let (id, event_id) = (d.id, d.event_id);
        match db::run(&self.pool, move |conn| {
            Ok(db::webhooks::record(conn, &d, &attempt, next)?)
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

/// Why there was no answer, without the URL (it is in the webhook) and short enough to list.
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}
