//! Prometheus metrics, served at `/metrics`.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub pool_in_use: IntGauge,
    pub pool_idle: IntGauge,
    pub pool_waiting: IntGauge,
    pub check_ins_stored: IntCounter,
    pub alerts_raised: IntCounterVec,
    pub webhook_deliveries: IntCounterVec,
    pub push_messages: IntCounterVec,
}

/// The process's metrics; every name and label set is fixed here.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    build().unwrap_or_else(|e| panic!("the metrics' definitions are invalid: {e}"))
});

fn build() -> prometheus::Result<Metrics> {
    let registry = Registry::new_custom(Some("aftercare".into()), None)?;
    let r = &registry;
    let request_seconds = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to answer a request, by route and method",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["route", "method"],
    )?;
    Ok(Metrics {
        requests: register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "http_requests_total",
                    "Requests answered, by route, method and status",
                ),
                &["route", "method", "status"],
            )?,
        )?,
        request_seconds: register(r, request_seconds)?,
        pool_in_use: register(
            r,
            IntGauge::new("db_pool_in_use", "Database connections in use")?,
        )?,
        pool_idle: register(
            r,
            IntGauge::new("db_pool_idle", "Database connections open and idle")?,
        )?,
        pool_waiting: register(
            r,
            IntGauge::new(
                "db_pool_waiting",
                "Requests waiting for a database connection",
            )?,
        )?,
        check_ins_stored: register(
            r,
            IntCounter::new("check_ins_stored_total", "Check-ins stored (not replays)")?,
        )?,
        alerts_raised: register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "alerts_raised_total",
                    "Alerts raised, or joined by new evidence, by level",
                ),
                &["level"],
            )?,
        )?,
        webhook_deliveries: register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "webhook_deliveries_total",
                    "Webhook delivery attempts, by result (delivered, failed)",
                ),
                &["result"],
            )?,
        )?,
        push_messages: register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "push_messages_total",
                    "Web Push attempts, by result (sent, gone, failed)",
                ),
                &["result"],
            )?,
        )?,
        registry,
    })
}

fn register<T: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: T,
) -> prometheus::Result<T> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = vec![];
        // Encoding into a Vec can't fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
