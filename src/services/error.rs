//! What a use case fails with, in the domain's words: the API maps each to its problem+json, the
//! command line and the workers to their own messages.

use crate::db;
use crate::domain::{FieldError, Invalid};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such thing, or not the caller's to touch.
    #[error("not found")]
    NotFound,
    /// The request contradicts what is stored; the message says how.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Fields that break the domain's rules, each named.
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// A credential that proves nothing: unknown, used, expired or wrong.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The caller is who they say, and may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The database failed (or refused in a way the use case did not expect).
    #[error(transparent)]
    Storage(db::Error),
    /// The same work runs already and runs one at a time: try again after this many seconds.
    #[error("busy: retry after {0} s")]
    Busy(u64),
    /// Another store the use case needs (the photo store) can't be reached; the client may retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl From<db::Error> for Error {
    fn from(e: db::Error) -> Self {
        match e {
            db::Error::NotFound => Error::NotFound,
            db::Error::Conflict(message) => Error::Conflict(message.into()),
            e => Error::Storage(e),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        db::Error::from(e).into()
    }
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Error::Invalid(invalid.0)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Internal(e)
    }
}

impl db::Failure for Error {
    fn verdict(&self) -> db::Verdict {
        match self {
            Error::Storage(e) => e.verdict(),
            Error::Internal(_) => db::Verdict::Suspect,
            _ => db::Verdict::Sound,
        }
    }
}

impl Error {
    pub fn invalid(field: &str, message: &str) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }
}
