//! How a use case's failure reads over HTTP: each `services::Error` as the problem+json it was
//! before services had an error of their own, so handlers keep using `?`.

use crate::error::ApiError;
use crate::services;

impl From<services::Error> for ApiError {
    fn from(e: services::Error) -> Self {
        match e {
            services::Error::NotFound => ApiError::NotFound,
            services::Error::Conflict(message) => ApiError::Conflict(message),
            services::Error::Invalid(errors) => ApiError::Validation(errors),
            services::Error::Unauthorized(message) => ApiError::Unauthorized(message),
            services::Error::Forbidden => ApiError::Forbidden,
            services::Error::Storage(e) => e.into(),
            services::Error::Unavailable(reason) => ApiError::Unavailable(reason),
            services::Error::Busy(seconds) => ApiError::TooManyRequests(seconds),
            services::Error::Internal(e) => ApiError::Internal(e),
        }
    }
}
