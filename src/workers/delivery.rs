//! The one way the server sends things out, under webhooks and Web Push: a worker claims what is
//! due from its outbox, leased so that no other worker takes it meanwhile, sends each on a task of
//! its own, as many at once as its settings allow, and the sender retries what failed with
//! exponential backoff until the item's deadline.
//!
//! The worker runs on the async runtime but never blocks it (diesel runs on the blocking pool), and
//! shares nothing with request handling but the connection pool: a receiver that is down or slow
//! holds up only its own items.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::{PgConnection, QueryResult};
use futures_util::future::{Either, select};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::Stop;
pub use crate::config::Pace;
use crate::db::{self, Pool};
use crate::domain::targets::Targets;
use crate::domain::webhooks::backoff;

/// How much longer than one attempt's timeout a claim holds, for the bookkeeping around it.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

impl Pace {
    /// When to try again after an item's `failures`-th failed attempt in a row, seen at `now`;
    /// None when that would be past its deadline.
    pub fn retry_at(
        &self,
        failures: i32,
        now: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let failures = u32::try_from(failures).unwrap_or(0);
        let wait = backoff(failures, self.retry_base, self.retry_cap);
        let at = now + chrono::Duration::from_std(wait).ok()?;
        (at <= deadline).then_some(at)
    }
}

/// What differs between the outboxes: where due items come from, and how one is sent.
pub trait Sender: Send + Sync + 'static {
    /// A claimed item, with what sending it needs.
    type Item: Send + 'static;
    /// What the log calls the items, e.g. "webhook deliveries".
    const ITEMS: &'static str;

    fn pace(&self) -> Pace;

    /// Takes up to `limit` due items and leases them for `lease_ms`.
    fn claim(conn: &mut PgConnection, limit: i64, lease_ms: i64) -> QueryResult<Vec<Self::Item>>;

    /// One attempt at an item, and what comes of it recorded.
    fn deliver(&self, pool: &Pool, item: Self::Item) -> impl Future<Output = ()> + Send;
}

/// Starts a worker for `sender` on the current Tokio runtime (actix-web's, or a test's), until
/// `stop`; the task ends once the attempts in flight have.
pub fn spawn<S: Sender>(pool: Pool, sender: S, stop: Stop) -> anyhow::Result<JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::try_current()
        .with_context(|| format!("the worker for {} must start in a Tokio runtime", S::ITEMS))?;
    Ok(runtime.spawn(run(pool, Arc::new(sender), stop)))
}

/// `work`'s output, or None when told to stop first.
async fn unless_stopped<F: Future>(stop: &Stop, work: F) -> Option<F::Output> {
    match select(std::pin::pin!(work), std::pin::pin!(stop.stopped())).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

/// Takes what is due, as many as there are free slots, and sends each on a task of its own; looks
/// again after the poll interval, or, when it found a full batch, as soon as a slot is free. Told
/// to stop, it takes nothing more and waits for the attempts in flight (each ends within its
/// timeout), so that none is using a database connection when the process exits.
async fn run<S: Sender>(pool: Pool, sender: Arc<S>, stop: Stop) {
    let pace = sender.pace();
    let concurrency = pace.concurrency.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(concurrency));
    let lease_ms = i64::try_from((pace.timeout + LEASE_MARGIN).as_millis()).unwrap_or(i64::MAX);
    while !stop.is_stopped() {
        // With every slot busy, wait for one rather than for the poll interval.
        let Some(Ok(slot)) = unless_stopped(&stop, slots.acquire()).await else {
            break;
        };
        drop(slot);
        let free = slots.available_permits();
        let mut full = false;
        if free > 0 {
            let limit = i64::try_from(free).unwrap_or(i64::MAX);
            match db::run(&pool, move |conn| {
                Ok::<_, db::Error>(S::claim(conn, limit, lease_ms)?)
            })
            .await
            {
                Ok(due) => {
                    full = due.len() == free;
                    for item in due {
                        let Ok(slot) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        let (sender, pool) = (sender.clone(), pool.clone());
                        tokio::spawn(async move {
                            sender.deliver(&pool, item).await;
                            drop(slot);
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "taking due {} failed; trying again", S::ITEMS)
                }
            }
        }
        if !full
            && unless_stopped(&stop, tokio::time::sleep(pace.poll_interval))
                .await
                .is_none()
        {
            break;
        }
    }
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    let _in_flight_done = slots.acquire_many(all).await;
}

/// Why an attempt was not sent: its address is not one the service may send to.
pub const NOT_SENT: &str = "the webhook's address is not on the public internet";

/// An HTTP client for what the service sends out (webhooks, push messages): it gives up after
/// `timeout`, follows no redirect (an answer that is not 2xx: the attempt is retried), and reaches
/// only the addresses `targets` allows. It ignores `HTTP(S)_PROXY` and `ALL_PROXY`: a proxy would
/// resolve the name itself, past the resolver that checks each address.
pub fn outbound_client(
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

/// Resolves names as the system does, keeping only the addresses the service may send to: a name
/// that points into the clinic's network fails like one that doesn't resolve. The connection is
/// made to the addresses checked here, so a second lookup can't answer differently.
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

    #[test]
    fn a_retry_waits_longer_after_each_failure_and_never_past_the_deadline() {
        let pace = Pace {
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            concurrency: 8,
        };
        let now = Utc::now();
        let deadline = now + chrono::Duration::minutes(5);
        assert_eq!(
            pace.retry_at(1, now, deadline),
            Some(now + chrono::Duration::seconds(30))
        );
        assert_eq!(
            pace.retry_at(3, now, deadline),
            Some(now + chrono::Duration::seconds(120))
        );
        assert_eq!(pace.retry_at(5, now, deadline), None);
    }
}
