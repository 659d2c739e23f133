//! The database layer: the pool, migrations, row types and the queries of each resource.
//! Queries on clinic-owned rows take a [`Tenant`], so none can forget whose rows it may touch, and
//! insert forms carry no clinic id: the insert takes it from the tenant. The few queries without a
//! tenant are the ways in before a clinic is known (a sign-in's email, a secret's hash) and the
//! background work that serves every clinic; each says so.

pub mod adverse_events;
pub mod alerts;
pub mod audit;
pub mod check_ins;
pub mod clinics;
mod error;
pub mod exports;
pub mod fhir;
pub mod fhir_clients;
mod ids;
pub mod outbox;
pub mod outcomes;
pub mod patient_data;
pub mod patients;
pub mod photos;
pub mod pool;
pub mod protocols;
pub mod push;
pub mod recovery;
pub mod reminders;
pub mod schema;
pub mod schema_smart;
pub mod sessions;
pub mod silence;
pub mod smart;
pub mod staff;
pub mod symptoms;
pub mod text_enum;
pub mod tokens;
pub mod treatments;
pub mod webhooks;
pub mod worklist;

use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use uuid::Uuid;

use crate::domain::ids::ClinicId;
pub use error::{Error, Failure, Verdict};
pub use pool::{Pool, PoolSettings};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The clinic a query acts for. Requests take theirs from their credentials; only an operator's
/// tools (the command line, the benchmark) name a clinic directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant(ClinicId);

impl Tenant {
    pub fn new(clinic_id: ClinicId) -> Self {
        Tenant(clinic_id)
    }

    pub fn id(self) -> ClinicId {
        self.0
    }
}

/// A pool of at most `max_size` connections, not tested on checkout.
pub fn pool(
    database_url: &str,
    max_size: u32,
    acquire_timeout: Duration,
    statement_timeout: Duration,
) -> Pool {
    pool::build(
        database_url,
        &PoolSettings {
            max_size,
            acquire_timeout,
            statement_timeout,
            test_on_check_out: false,
        },
    )
}

pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Requests waiting for a pooled connection now (a gauge of `/metrics`).
pub static WAITING: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Runs blocking diesel work on the blocking thread pool, never on an async worker. The work
/// fails with its caller's error (a service's, a handler's), which can hold a storage error.
pub async fn run<T, E, F>(pool: &Pool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Failure + Send + 'static,
{
    run_within(pool, pool.connection_timeout(), f).await
}

/// As [`run`], waiting at most `timeout` for a connection. Work that fails on a connection that
/// can no longer write (its server died, or is a standby now) is a 503, and that connection and
/// every one made before it leave the pool (see `db::pool`).
pub async fn run_within<T, E, F>(pool: &Pool, timeout: Duration, f: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Failure + Send + 'static,
{
    let pool = pool.clone();
    // Log lines from the blocking thread carry the request's id too.
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _request = span.enter();
        use std::sync::atomic::Ordering::Relaxed;
        WAITING.fetch_add(1, Relaxed);
        let conn = checkout(&pool, timeout);
        WAITING.fetch_sub(1, Relaxed);
        let mut conn = conn.map_err(E::from)?;
        f(&mut conn).map_err(|e| pool::after_failure(&mut conn, e))
    })
    .await
    .map_err(|e| E::from(Error::from(e)))?
}

/// A connection made since the last failover: older ones are closed as they come out.
fn checkout(
    pool: &Pool,
    timeout: Duration,
) -> Result<diesel::r2d2::PooledConnection<pool::Manager>, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let conn = pool.get_timeout(deadline.saturating_duration_since(Instant::now()))?;
        if !conn.is_stale() {
            return Ok(conn);
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Takes a transaction-scoped advisory lock if no other session holds it: how work that one
/// instance should do at a time is kept to one, when several serve one database.
pub fn try_advisory_xact_lock(conn: &mut PgConnection, key: i64) -> diesel::QueryResult<bool> {
    advisory(conn, "pg_try_advisory_xact_lock", key)
}

/// Takes a session-scoped advisory lock if no other session holds it: for work longer than one
/// transaction, held until [`advisory_unlock`] or until the session ends (its instance died).
pub fn try_advisory_lock(conn: &mut PgConnection, key: i64) -> diesel::QueryResult<bool> {
    advisory(conn, "pg_try_advisory_lock", key)
}

pub fn advisory_unlock(conn: &mut PgConnection, key: i64) -> diesel::QueryResult<bool> {
    advisory(conn, "pg_advisory_unlock", key)
}

fn advisory(conn: &mut PgConnection, function: &str, key: i64) -> diesel::QueryResult<bool> {
    use diesel::RunQueryDsl;
    Ok(
        diesel::sql_query(format!("SELECT {function}($1) AS locked"))
            .bind::<diesel::sql_types::BigInt, _>(key)
            .get_result::<Locked>(conn)?
            .locked,
    )
}

/// Keyset pagination: the sort key of the last row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: chrono::DateTime<chrono::Utc>,
    pub id: Uuid,
}

/// The times a cursor may hold: every row's, and well inside what PostgreSQL can compare with
/// (4713 BC to 294276 AD), so a tampered cursor is a 400 rather than a database error.
pub const CURSOR_MICROS: std::ops::RangeInclusive<i64> =
    -62_135_596_800_000_000..=253_402_300_799_999_999;

/// A cursor as clients see it: its text (fields joined by dots), opaque in base64url.
pub fn cursor_token(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The text of a cursor [`cursor_token`] made; none for anything else.
pub fn cursor_text(token: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The time in a cursor, given in microseconds since 1970, if it is one a cursor may hold.
pub fn cursor_time(micros: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let micros: i64 = micros.parse().ok()?;
    CURSOR_MICROS
        .contains(&micros)
        .then(|| chrono::DateTime::from_timestamp_micros(micros))
        .flatten()
}

/// A page request after validation: at most `limit` rows after `after`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// Splits the one extra row a query fetched off, and names the cursor of the next page.
pub fn into_page<T>(
    mut rows: Vec<T>,
    req: PageRequest,
    key: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<Cursor>) {
    if rows.len() as i64 > req.limit {
        rows.truncate(req.limit as usize);
        let next = rows.last().map(key);
        (rows, next)
    } else {
        (rows, None)
    }
}
