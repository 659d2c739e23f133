//! The connection pool, which drops connections to a server that died or stopped taking writes (a
//! failover) as soon as one of them shows it, whether or not connections are tested on checkout.
//!
//! diesel's `ConnectionManager::has_broken` only asks whether the connection's transaction manager
//! is in a bad state: a connection whose server died, or that is read-only after a demotion, goes
//! back into the pool after a failed statement outside a transaction, or after a clean rollback.
//! Here a connection carries the pool's generation from when it was made; work that fails on a
//! connection that can no longer write marks it broken and starts a new generation, and every
//! older connection is closed instead of being used again. New connections find the new primary
//! through the URL's hosts (`target_session_attrs=read-write`).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::r2d2::{ConnectionManager, CustomizeConnection, Error, ManageConnection};
use diesel::{PgConnection, RunQueryDsl};

use super::error::{Failure, Verdict};

pub type Pool = diesel::r2d2::Pool<Manager>;

/// How the pool connects and what it asks of a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    /// How long a checkout waits for a free connection.
    pub acquire_timeout: Duration,
    /// The longest any statement may run.
    pub statement_timeout: Duration,
    /// Ping each connection before handing it out (one round trip per checkout). Failover holds
    /// without it; it only saves the one request per stale connection that would find it dead.
    pub test_on_check_out: bool,
}

pub fn build(database_url: &str, settings: &PoolSettings) -> Pool {
    let manager = Manager {
        inner: ConnectionManager::new(database_url),
        generation: Arc::new(AtomicU64::new(0)),
    };
    diesel::r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(0))
        .connection_timeout(settings.acquire_timeout)
        .connection_customizer(Box::new(StatementTimeout(settings.statement_timeout)))
        .test_on_check_out(settings.test_on_check_out)
        // Don't fail start-up while the database is away: /readyz reports it, requests get 503.
        .build_unchecked(manager)
}

#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    generation: Arc<AtomicU64>,
}

/// A pooled PostgreSQL connection, usable wherever a `&mut PgConnection` is.
pub struct Conn {
    pg: PgConnection,
    generation: u64,
    current: Arc<AtomicU64>,
    broken: bool,
}

impl Conn {
    /// Made before a connection of its pool was found unable to write: to the old primary.
    pub fn is_stale(&self) -> bool {
        self.generation < self.current.load(Ordering::SeqCst)
    }

    /// Closes this connection when it goes back, and every connection made before it.
    pub fn discard(&mut self) {
        self.broken = true;
        self.current
            .fetch_max(self.generation + 1, Ordering::SeqCst);
    }

    /// Whether the server still answers and takes writes.
    pub fn is_writable(&mut self) -> bool {
        writable(&mut self.pg).unwrap_or(false)
    }
}

/// What work that failed with `e` on `conn` tells of the connection. A lost connection (or a
/// read-only transaction, after a demotion) leaves the pool; any other failure asks the server
/// whether it still takes writes, since a server shutting down (57P01-57P03) may say so with an
/// error diesel can't tell apart. A failure caused by the server going away is a 503: retry.
pub fn after_failure<E: Failure>(conn: &mut Conn, e: E) -> E {
    match e.verdict() {
        Verdict::Lost => {
            conn.discard();
            e
        }
        Verdict::Suspect if !conn.is_writable() => {
            conn.discard();
            E::from(super::Error::Unavailable(format!(
                "the database stopped taking writes: {e}"
            )))
        }
        _ => e,
    }
}

/// Whether the server takes writes: not a standby, and not read-only (as pg_auto_failover makes a
/// standby it is promoting, and a primary it is draining).
pub fn writable(conn: &mut PgConnection) -> diesel::QueryResult<bool> {
    Ok(diesel::sql_query(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
    )
    .get_result::<Writable>(conn)?
    .writable)
}

#[derive(diesel::QueryableByName)]
struct Writable {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    writable: bool,
}

impl Deref for Conn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.pg
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = Error;

    fn connect(&self) -> Result<Conn, Error> {
        // The generation is read before connecting: a connection made while a failure is being
        // found belongs to the old one, and is closed too.
        let generation = self.generation.load(Ordering::SeqCst);
        Ok(Conn {
            pg: self.inner.connect()?,
            generation,
            current: self.generation.clone(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Error> {
        self.inner.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.is_stale() || self.inner.has_broken(&mut conn.pg)
    }
}

/// Puts every statement of a connection under a time limit.
#[derive(Debug)]
struct StatementTimeout(Duration);

impl CustomizeConnection<Conn, Error> for StatementTimeout {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), Error> {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!("SET statement_timeout = {}", self.0.as_millis()))
            .map_err(Error::QueryError)
    }
}
