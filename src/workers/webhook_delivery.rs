//! Webhooks at work: an event joins the outbox in the transaction of the change it tells of, and a
//! worker delivers it, signed, retrying with exponential backoff until the delivery's deadline.
//!
//! The worker runs on the async runtime but never blocks it (diesel runs on the blocking pool), and
//! shares nothing with request handling but the connection pool: a receiver that is down or slow
//! holds up only its own deliveries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use tokio::sync::Semaphore;

use crate::config::WebhookSettings;
use crate::db::webhooks::{Claimed, NewAttempt, Next};
use crate::db::{self, Pool};
use crate::domain::check_in::truncate_to_micros;
use crate::domain::targets::Targets;
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
    let agent = concat!("Aftercare-Webhooks/", env!("CARGO_PKG_VERSION"));
    let client = outbound_client(settings.timeout, settings.targets, agent)?;
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
    /// looks again after the poll interval, or, when it found a full batch, as soon as a slot is
    /// free.
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let lease = self.settings.timeout + LEASE_MARGIN;
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        loop {
            // With every slot busy, wait for one rather than for the poll interval.
            let Ok(slot) = slots.acquire().await else {
                return;
            };
            drop(slot);
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

/// What the delivery listing says of an attempt without an HTTP answer, whatever the cause: told
/// a refused connection from a timeout or a reset, webhooks would map the network they reach.
/// The cause is logged.
const NO_ANSWER: &str = "no HTTP answer";

/// Why an attempt was not sent: its address is not one webhooks may go to.
const NOT_SENT: &str = "the webhook's address is not on the public internet";

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

/// An HTTP client for what the service sends out (webhooks, push messages): it gives up after
/// `timeout`, follows no redirect (an answer that is not 2xx: the attempt is retried), and reaches
/// only the addresses `targets` allows. It ignores `HTTP(S)_PROXY` and `ALL_PROXY`: a proxy would
/// resolve the name itself, past the resolver that checks each address.
pub(crate) fn outbound_client(
    timeout: Duration,
    targets: Targets,
    agent: &'static str,
) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(TargetResolver(targets)))
        .user_agent(agent)
        .build()
        .context("building an outbound HTTP client")
}

/// Resolves names as the system does, keeping only the addresses webhooks may go to: a name that
/// points into the clinic's network fails like one that doesn't resolve. The connection is made to
/// the addresses checked here, so a second lookup can't answer differently.
struct TargetResolver(Targets);

impl reqwest::dns::Resolve for TargetResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let targets = self.0;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found.filter(|a| targets.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(NOT_SENT.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use reqwest::dns::{Name, Resolve};

    use super::*;

    #[tokio::test]
    async fn names_that_resolve_to_this_machine_resolve_to_nothing() {
        let name = || Name::from_str("localhost").unwrap();
        assert!(
            TargetResolver(Targets::default())
                .resolve(name())
                .await
                .is_err()
        );
        let allowed = Targets {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = TargetResolver(allowed)
            .resolve(name())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
