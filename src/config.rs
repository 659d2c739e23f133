//! Typed settings, read from the environment (and a `.env` file, if there is one).

use std::time::Duration;

use anyhow::{Context, bail};

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub addr: String,
    pub jwt: JwtSettings,
    /// Most database connections the service holds.
    pub db_pool_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// How often the server looks for missed check-ins.
    pub job_interval: Duration,
    pub webhooks: WebhookSettings,
}

/// How webhook deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The wait after the first failed attempt; it doubles with each failure after that.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_cap: Duration,
    /// How long one attempt waits for the receiver's answer.
    pub timeout: Duration,
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
    /// Most deliveries in flight at once.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

#[derive(Clone)]
pub struct JwtSettings {
    pub secret: String,
    /// The secret before the last rotation: tokens it signed stay valid until they expire.
    pub previous_secret: Option<String>,
}

/// A secret shorter than this is refused: HS256 needs at least 256 bits of key.
pub const MIN_SECRET_BYTES: usize = 32;

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let database_url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
        let secret =
            std::env::var("AFTERCARE_JWT_SECRET").context("AFTERCARE_JWT_SECRET is not set")?;
        let previous_secret = std::env::var("AFTERCARE_JWT_PREVIOUS_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        let jwt = JwtSettings {
            secret,
            previous_secret,
        };
        jwt.check()?;
        Ok(Settings {
            database_url,
            addr: var_or("AFTERCARE_ADDR", "127.0.0.1:8080".into())?,
            jwt,
            db_pool_size: var_or("AFTERCARE_DB_POOL_SIZE", 10)?,
            db_acquire_timeout: Duration::from_millis(var_or(
                "AFTERCARE_DB_ACQUIRE_TIMEOUT_MS",
                2000,
            )?),
            job_interval: Duration::from_secs(var_or("AFTERCARE_JOB_INTERVAL", 300u64)?.max(1)),
            webhooks: WebhookSettings {
                retry_base: Duration::from_secs(
                    var_or("AFTERCARE_WEBHOOK_RETRY_BASE", 30u64)?.max(1),
                ),
                timeout: Duration::from_secs(var_or("AFTERCARE_WEBHOOK_TIMEOUT", 10u64)?.max(1)),
                concurrency: var_or("AFTERCARE_WEBHOOK_CONCURRENCY", 8usize)?.max(1),
                ..WebhookSettings::default()
            },
        })
    }
}

impl JwtSettings {
    fn check(&self) -> anyhow::Result<()> {
        for (name, s) in [
            ("AFTERCARE_JWT_SECRET", Some(&self.secret)),
            (
                "AFTERCARE_JWT_PREVIOUS_SECRET",
                self.previous_secret.as_ref(),
            ),
        ] {
            if s.is_some_and(|s| s.len() < MIN_SECRET_BYTES) {
                bail!(
                    "{name} must be at least {MIN_SECRET_BYTES} bytes (try: openssl rand -hex 32)"
                );
            }
        }
        Ok(())
    }
}

fn var_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} has an invalid value: {v:?}")),
        Err(_) => Ok(default),
    }
}
