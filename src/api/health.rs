//! Liveness and readiness, for orchestrators and load balancers.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Pool};
use crate::error::ApiError;

/// Set when the service is shutting down: readiness fails from then on.
#[derive(Debug, Default)]
pub struct Draining(pub std::sync::atomic::AtomicBool);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up. Never touches the database.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// How long readiness may take: it says 503 rather than keep a load balancer waiting.
const READY_WITHIN: Duration = Duration::from_millis(500);
/// Of that, the longest it waits for a pooled connection.
const READY_CHECKOUT: Duration = Duration::from_millis(300);

/// The service can serve requests: a database that takes writes answers within half a second
/// (during a failover, none does), and it is not shutting down.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Shutting down, or no writable database answered within 500 ms; retry after `Retry-After`",
         body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    pool: web::Data<Pool>,
    draining: web::Data<Draining>,
) -> Result<HttpResponse, ApiError> {
    if draining.0.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    let check = db::run_within(&pool, READY_CHECKOUT, |conn| {
        // A standby, or a primary being demoted: `run_within` drops the connection.
        db::pool::writable(conn)?
            .then_some(())
            .ok_or_else(|| ApiError::Unavailable("the database is read-only".into()))
    });
    match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(ready) => ready?,
        Err(_) => return Err(ApiError::Unavailable("the database did not answer".into())),
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// Prometheus metrics: requests by route, method and status with latency histograms, database
/// connections in use, idle and waited for, check-ins stored, alerts raised, webhook deliveries.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "Metrics in Prometheus' text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(pool: web::Data<Pool>) -> HttpResponse {
    let (metrics, state) = (&crate::web::metrics::METRICS, pool.state());
    metrics.pool_idle.set(i64::from(state.idle_connections));
    metrics
        .pool_in_use
        .set(i64::from(state.connections - state.idle_connections));
    metrics
        .pool_waiting
        .set(db::WAITING.load(std::sync::atomic::Ordering::Relaxed));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
