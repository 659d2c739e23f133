//! What storage fails with, told apart once: what a refusal means (no such row, a unique
//! constraint), what a lost or busy database is, and what a failed piece of work says of the
//! connection it ran on. The layers above map these to their own errors; none of them is HTTP.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row asked for does not exist, or is not the tenant's.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused a row: what a client is told about it.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database can't be reached, has no free connection, or no longer takes writes.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A statement ran past its time limit.
    #[error("timed out")]
    TimedOut,
    /// Any other failure of a query.
    #[error(transparent)]
    Query(DieselError),
    /// A failure beside the queries: a stored value that can't be read, say.
    #[error("{0:#}")]
    Other(anyhow::Error),
}

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Error::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict(conflict_message(info.constraint_name()))
            }
            // A read-only transaction: the server was demoted to a standby, or is being made one.
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _)
            | DieselError::BrokenTransactionManager => Error::Unavailable(e.to_string()),
            DieselError::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                Error::TimedOut
            }
            other => Error::Query(other),
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Other(e)
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

/// What a client is told when a unique constraint refuses a row.
fn conflict_message(constraint: Option<&str>) -> &'static str {
    match constraint {
        Some("staff_email_key") => "a staff member with this email already exists",
        Some("patients_external_ref_key") => "a patient with this external_ref already exists",
        Some("patients_external_ref_lookalike_key") => {
            "a patient with this external_ref, or one that differs only in case, accents, \
             separators or width, already exists"
        }
        Some("protocols_name_key") => "a protocol with this name already exists",
        Some("symptoms_clinic_code_key") => "the clinic already has a symptom with this code",
        _ => "this resource already exists",
    }
}

/// What a failed piece of work says of the connection it ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The connection is gone, or its server takes no writes: it leaves the pool.
    Lost,
    /// An unexplained failure, which a server going away can cause: ask the server.
    Suspect,
    /// A refusal of the work itself; the connection is fine.
    Sound,
}

/// An error that work on a pooled connection may end in (see [`super::run`]): each layer's error
/// says what it tells of the connection, and can hold a storage error.
pub trait Failure: From<Error> + std::fmt::Display {
    fn verdict(&self) -> Verdict;
}

impl Failure for Error {
    fn verdict(&self) -> Verdict {
        match self {
            Error::Unavailable(_) => Verdict::Lost,
            Error::TimedOut | Error::Query(_) | Error::Other(_) => Verdict::Suspect,
            Error::NotFound | Error::Conflict(_) => Verdict::Sound,
        }
    }
}
