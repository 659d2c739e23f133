//! Typed settings, read from the environment (and a `.env` file, if there is one).

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::fhir::export::FILE_SIZE;

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub addr: String,
    pub jwt: JwtSettings,
    /// Most database connections the service holds.
    pub db_pool_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// Longest any SQL statement of a request may run.
    pub db_statement_timeout: Duration,
    /// Ping each connection before handing it out; the service doesn't need it, failover included.
    pub db_test_on_check_out: bool,
    /// How often the server looks for missed check-ins.
    pub job_interval: Duration,
    pub http: HttpSettings,
    /// On SIGTERM, how long the service keeps serving, not ready, before it stops taking requests.
    pub shutdown_grace: Duration,
    pub webhooks: WebhookSettings,
    /// Web Push to patients' phones; None when no VAPID key is set.
    pub push: Option<PushSettings>,
    /// The FHIR Bulk Data export worker.
    pub fhir_exports: ExportSettings,
}

/// Sign-in, enrollment and refresh attempts a minute from one client address, by default
/// (`AFTERCARE_AUTH_ATTEMPTS_PER_MINUTE`): enough for a clinic's staff behind one NAT, not for
/// guessing.
pub const AUTH_ATTEMPTS_PER_MINUTE: u32 = 60;

/// How the service answers over HTTP.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins (`https://app.example.com`) whose pages may call the API from a browser.
    pub cors_origins: Vec<String>,
    /// Whether `/docs` and `/openapi.json` are served.
    pub docs: bool,
    /// A request that takes longer is answered 503.
    pub request_timeout: Duration,
    /// Sign-in, enrollment and refresh attempts a minute from one client address.
    pub auth_attempts_per_minute: u32,
    /// Reverse proxies (`AFTERCARE_TRUSTED_PROXIES`, CIDRs separated by commas; none by default):
    /// only a request from one of them has its client address read from `X-Forwarded-For` /
    /// `Forwarded`. Every other request's client is its TCP peer.
    pub trusted_proxies: Vec<Cidr>,
    /// Where clients reach the service (`https://aftercare.clinic.example`,
    /// `AFTERCARE_PUBLIC_URL`): every absolute URL the service writes (enrollment links, FHIR
    /// `fullUrl`s and links, export URLs, the SMART token URL an assertion's `aud` must name) starts
    /// with it; no request header chooses it. `serve` requires it; None (the demo, tests) is the
    /// address the service listens on.
    pub public_url: Option<PublicUrl>,
    /// Where photos' bytes are kept (`AFTERCARE_PHOTO_STORE`): `file:///folder`, or `s3://bucket`
    /// with the endpoint, region and credentials from the `AWS_*` variables. The command line
    /// makes None a folder under the data directory; left None (tests), the system's temp folder.
    pub photo_store: Option<String>,
}

/// The service's public base URL: absolute http(s), no query or fragment, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(raw: &str) -> anyhow::Result<PublicUrl> {
        match url::Url::parse(raw) {
            Ok(u)
                if ["http", "https"].contains(&u.scheme())
                    && u.has_host()
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.password().is_none() =>
            {
                Ok(PublicUrl(raw.trim_end_matches('/').to_string()))
            }
            _ => bail!(
                "AFTERCARE_PUBLIC_URL must be an absolute http(s) URL such as https://aftercare.clinic.example, not {raw:?}"
            ),
        }
    }

    /// The URL of a service listening on `addr` (an unspecified address stands for this machine).
    pub fn listening_on(addr: std::net::SocketAddr) -> PublicUrl {
        let mut addr = addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        PublicUrl(format!("http://{addr}"))
    }

    /// Without a trailing slash: append paths that start with one.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors_origins: vec![],
            docs: true,
            request_timeout: Duration::from_secs(30),
            auth_attempts_per_minute: AUTH_ATTEMPTS_PER_MINUTE,
            trusted_proxies: vec![],
            public_url: None,
            photo_store: None,
        }
    }
}

/// How the FHIR Bulk Data export worker runs.
#[derive(Debug, Clone, Copy)]
pub struct ExportSettings {
    /// How often the worker looks for work.
    pub poll: Duration,
    /// Resources per ndjson file.
    pub file_size: i64,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            poll: Duration::from_secs(1),
            file_size: FILE_SIZE,
        }
    }
}

/// How a delivery worker (webhooks, Web Push) paces its sending.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The wait after the first failed attempt; it doubles with each failure after that.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_cap: Duration,
    /// How long one attempt waits for an answer.
    pub timeout: Duration,
    /// How often the worker looks for due items.
    pub poll_interval: Duration,
    /// Most items in flight at once.
    pub concurrency: usize,
}

/// How webhook deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub pace: Pace,
    /// Where deliveries may go: the public internet only, over https, unless private addresses
    /// are allowed (`AFTERCARE_WEBHOOK_ALLOW_PRIVATE`, for local testing), which allows http too.
    pub targets: crate::domain::targets::Targets,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            pace: Pace {
                retry_base: Duration::from_secs(30),
                retry_cap: Duration::from_secs(3600),
                timeout: Duration::from_secs(10),
                poll_interval: Duration::from_secs(1),
                concurrency: 8,
            },
            targets: crate::domain::targets::Targets::default(),
        }
    }
}

/// How Web Push messages are sent and retried.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// The key that signs each message's VAPID token, and the contact the push services see.
    pub vapid: crate::domain::web_push::Vapid,
    pub pace: Pace,
    /// Where messages may go: as for webhooks, the public internet only unless private addresses
    /// are allowed.
    pub targets: crate::domain::targets::Targets,
}

impl PushSettings {
    pub fn new(vapid: crate::domain::web_push::Vapid) -> PushSettings {
        PushSettings {
            vapid,
            pace: Pace {
                retry_base: Duration::from_secs(30),
                retry_cap: Duration::from_secs(900),
                timeout: Duration::from_secs(10),
                poll_interval: Duration::from_secs(1),
                concurrency: 8,
            },
            targets: crate::domain::targets::Targets::default(),
        }
    }

    /// `AFTERCARE_VAPID_PRIVATE_KEY` and `AFTERCARE_VAPID_SUBJECT`, both or neither; None for
    /// neither.
    fn from_env(targets: crate::domain::targets::Targets) -> anyhow::Result<Option<PushSettings>> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let (key, subject) = match (
            var("AFTERCARE_VAPID_PRIVATE_KEY"),
            var("AFTERCARE_VAPID_SUBJECT"),
        ) {
            (None, None) => return Ok(None),
            (Some(k), Some(s)) => (k, s),
            _ => bail!(
                "set both AFTERCARE_VAPID_PRIVATE_KEY and AFTERCARE_VAPID_SUBJECT for Web Push, or neither"
            ),
        };
        // The error names the variable, never its value.
        let vapid = crate::domain::web_push::Vapid::new(&key, &subject)
            .map_err(|e| anyhow::anyhow!("AFTERCARE_VAPID_PRIVATE_KEY or _SUBJECT: {e}"))?;
        Ok(Some(PushSettings {
            targets,
            ..PushSettings::new(vapid)
        }))
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
    /// The settings of the environment, for a service on `database_url`. `secret` stands in for a
    /// missing `AFTERCARE_JWT_SECRET` (the demo's one-off secret).
    pub fn from_env(database_url: String, secret: Option<String>) -> anyhow::Result<Settings> {
        let secret = match std::env::var("AFTERCARE_JWT_SECRET") {
            Ok(s) => s,
            Err(_) => {
                secret.context("AFTERCARE_JWT_SECRET is not set (try: openssl rand -hex 32)")?
            }
        };
        let previous_secret = std::env::var("AFTERCARE_JWT_PREVIOUS_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        let jwt = JwtSettings {
            secret,
            previous_secret,
        };
        jwt.check()?;
        let targets = crate::domain::targets::Targets {
            allow_private: var_or("AFTERCARE_WEBHOOK_ALLOW_PRIVATE", false)?,
        };
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
            db_statement_timeout: Duration::from_millis(var_or(
                "AFTERCARE_DB_STATEMENT_TIMEOUT_MS",
                5000,
            )?),
            db_test_on_check_out: var_or("AFTERCARE_DB_TEST_ON_CHECKOUT", false)?,
            shutdown_grace: Duration::from_millis(var_or("AFTERCARE_SHUTDOWN_GRACE_MS", 5000)?),
            http: HttpSettings {
                cors_origins: var_or("AFTERCARE_CORS_ORIGINS", String::new())?
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect(),
                docs: var_or("AFTERCARE_DOCS", true)?,
                request_timeout: Duration::from_secs(
                    var_or("AFTERCARE_REQUEST_TIMEOUT", 30u64)?.max(1),
                ),
                auth_attempts_per_minute: var_or(
                    "AFTERCARE_AUTH_ATTEMPTS_PER_MINUTE",
                    AUTH_ATTEMPTS_PER_MINUTE,
                )?,
                trusted_proxies: parse_list(&var_or("AFTERCARE_TRUSTED_PROXIES", String::new())?)
                    .map_err(|e| anyhow::anyhow!("AFTERCARE_TRUSTED_PROXIES: {e}"))?,
                public_url: public_url()?,
                photo_store: std::env::var("AFTERCARE_PHOTO_STORE")
                    .ok()
                    .filter(|s| !s.is_empty()),
            },
            webhooks: WebhookSettings {
                pace: Pace {
                    retry_base: Duration::from_secs(
                        var_or("AFTERCARE_WEBHOOK_RETRY_BASE", 30u64)?.max(1),
                    ),
                    timeout: Duration::from_secs(
                        var_or("AFTERCARE_WEBHOOK_TIMEOUT", 10u64)?.max(1),
                    ),
                    concurrency: var_or("AFTERCARE_WEBHOOK_CONCURRENCY", 8usize)?.max(1),
                    ..WebhookSettings::default().pace
                },
                targets,
            },
            push: PushSettings::from_env(targets)?,
            fhir_exports: ExportSettings {
                file_size: var_or("AFTERCARE_FHIR_EXPORT_FILE_SIZE", FILE_SIZE)?.max(1),
                ..Default::default()
            },
        })
    }
}

impl JwtSettings {
    pub fn check(&self) -> anyhow::Result<()> {
        for (name, s) in [
            ("AFTERCARE_JWT_SECRET", Some(&self.secret)),
            (
                "AFTERCARE_JWT_PREVIOUS_SECRET",
                self.previous_secret.as_ref(),
            ),
        ] {
            let Some(s) = s else { continue };
            if s.len() < MIN_SECRET_BYTES {
                bail!(
                    "{name} must be at least {MIN_SECRET_BYTES} bytes (try: openssl rand -hex 32)"
                );
            }
            if is_placeholder(s) {
                bail!("{name} looks like a placeholder, not a secret (try: openssl rand -hex 32)");
            }
        }
        Ok(())
    }
}

/// A secret copied from an example, or too repetitive to be random.
fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_lowercase();
    let distinct = lower
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len();
    distinct < 10
        || [
            "change", "replace", "your", "example", "default", "secret", "password",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let addr = addr.to_canonical();
        let most = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => most,
        };
        (prefix <= most).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(a).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                masked(u128::from(net), self.prefix, 128) == masked(u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// `bits` (a `width`-bit address) with all but the first `prefix` bits cleared.
fn masked(bits: u128, prefix: u8, width: u32) -> u128 {
    let host = width - u32::from(prefix);
    if host >= 128 { 0 } else { bits >> host << host }
}

/// Parses `AFTERCARE_TRUSTED_PROXIES`: CIDRs separated by commas; empty is none.
pub fn parse_list(s: &str) -> Result<Vec<Cidr>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Cidr::parse(c).ok_or_else(|| format!("{c:?} is not a CIDR such as 10.0.0.0/8")))
        .collect()
}

/// `AFTERCARE_PUBLIC_URL`, if set.
fn public_url() -> anyhow::Result<Option<PublicUrl>> {
    std::env::var("AFTERCARE_PUBLIC_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|raw| PublicUrl::parse(&raw))
        .transpose()
}

/// What `serve` says when `AFTERCARE_PUBLIC_URL` is not set.
pub const PUBLIC_URL_MISSING: &str = "AFTERCARE_PUBLIC_URL is not set: set it to the URL clients reach the service at \
     (https://aftercare.clinic.example); links, FHIR URLs and the SMART token URL are made from it";

fn var_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} has an invalid value: {v:?}")),
        Err(_) => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str) -> JwtSettings {
        JwtSettings {
            secret: secret.into(),
            previous_secret: None,
        }
    }

    #[test]
    fn short_default_and_repetitive_secrets_are_refused() {
        for bad in [
            "too-short",
            "change-me-change-me-change-me-change-me",
            "your-jwt-secret-goes-here-at-least-32-bytes",
            "abababababababababababababababababab",
        ] {
            assert!(jwt(bad).check().is_err(), "{bad}");
        }
        assert!(
            jwt("3f9a1c0e7b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d")
                .check()
                .is_ok()
        );
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.255.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_list(" , 10.0.0.0/8 ,::1").unwrap().len(), 2);
        assert!(parse_list("10.0.0.0/8, nope").is_err());
        assert!(parse_list("").unwrap().is_empty());
    }
}
