//! Web Push at work: the reminders job puts a message for each subscription in the push outbox,
//! and this worker sends it to the push service (RFC 8030), encrypted for the browser (RFC 8291)
//! and signed for the service (VAPID, RFC 8292), retrying with exponential backoff until the
//! message's deadline. A message is marked sent in the database once the service took it, so a
//! restart sends none twice; a subscription the service says is gone (404, 410) is dropped.

use chrono::{DateTime, Utc};
use diesel::{PgConnection, QueryResult};

use super::Stop;
use super::delivery::{self, Pace, Sender, outbound_client};
use crate::config::PushSettings;
use crate::db::push::{Claimed, Next};
use crate::db::{self, Pool};
use crate::domain::web_push::encrypt;

/// Sends Web Push messages, encrypted and signed.
struct Push {
    client: reqwest::Client,
    settings: PushSettings,
}

/// Starts the push worker on the current Tokio runtime (actix-web's, or a test's), until `stop`.
pub fn spawn(
    pool: Pool,
    settings: PushSettings,
    stop: Stop,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let agent = concat!("Aftercare-Push/", env!("CARGO_PKG_VERSION"));
    let client = outbound_client(settings.pace.timeout, settings.targets, agent)?;
    delivery::spawn(pool, Push { client, settings }, stop)
}

impl Sender for Push {
    type Item = Claimed;
    const ITEMS: &'static str = "push messages";

    fn pace(&self) -> Pace {
        self.settings.pace
    }

    fn claim(conn: &mut PgConnection, limit: i64, lease_ms: i64) -> QueryResult<Vec<Claimed>> {
        db::push::claim(conn, limit, lease_ms)
    }

    /// One attempt, and what comes of it recorded.
    async fn deliver(&self, pool: &Pool, m: Claimed) {
        let now = Utc::now();
        let (status, next) = if now > m.deadline {
            (None, Next::Failed)
        } else {
            let status = self.send(&m, now).await;
            (status, self.next(&m, status, now))
        };
        crate::web::metrics::METRICS
            .push_messages
            .with_label_values(&[match next {
                Next::Sent(_) => "sent",
                Next::Gone => "gone",
                Next::RetryAt(_) | Next::Failed => "failed",
            }])
            .inc();
        let id = m.id;
        match db::run(pool, move |conn| {
            Ok::<_, db::Error>(db::push::record(conn, &m, status, next)?)
        })
        .await
        {
            Ok(_) => tracing::debug!(message_id = %id, ?status, ?next, "push attempt"),
            // The lease runs out and the message is sent again: at least once.
            Err(e) => {
                tracing::warn!(message_id = %id, error = %e, "recording a push attempt failed")
            }
        }
    }
}

impl Push {
    /// Sends the message; the push service's status, None when there was no answer (or the
    /// message could not be sent at all).
    async fn send(&self, m: &Claimed, now: DateTime<Utc>) -> Option<i16> {
        let endpoint = url::Url::parse(&m.endpoint).ok()?;
        // An address in the URL is not resolved, so the resolver never sees it: checked here.
        let allowed = endpoint
            .host()
            .is_some_and(|h| self.settings.targets.allows_host(&h));
        if !allowed {
            tracing::info!(message_id = %m.id, "a push endpoint is not on the public internet: not sent");
            return None;
        }
        let body = match encrypt(m.payload.to_string().as_bytes(), &m.p256dh, &m.auth) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(message_id = %m.id, error = %e, "a push message could not be encrypted");
                return None;
            }
        };
        let ttl = (m.deadline - now).num_seconds().max(0);
        let sent = self
            .client
            .post(endpoint.clone())
            .header("TTL", ttl.to_string())
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(
                reqwest::header::AUTHORIZATION,
                self.settings
                    .vapid
                    .authorization(&endpoint, now.timestamp()),
            )
            .body(body)
            .send()
            .await;
        match sent {
            Ok(res) => i16::try_from(res.status().as_u16()).ok(),
            Err(e) => {
                // Without the URL: it is a capability of the patient's browser.
                tracing::info!(message_id = %m.id, error = %e.without_url(), "push attempt got no answer");
                None
            }
        }
    }

    /// What comes after an attempt with this answer: sent on 2xx; the subscription dropped on
    /// 404 and 410; retried on no answer, 429 and 5xx while the deadline allows; failed on any
    /// other answer (a 400, 403 or 413 will not change by asking again).
    fn next(&self, m: &Claimed, status: Option<i16>, now: DateTime<Utc>) -> Next {
        match status {
            Some(200..=299) => Next::Sent(now),
            Some(404 | 410) => Next::Gone,
            None | Some(429 | 500..=599) => self
                .pace()
                .retry_at(m.failures.saturating_add(1), now, m.deadline)
                .map_or(Next::Failed, Next::RetryAt),
            Some(_) => Next::Failed,
        }
    }
}
