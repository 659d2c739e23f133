//! The API's error type and its RFC 9457 problem+json response. What storage fails with
//! (`db::Error`) maps into it here; what a use case fails with (`services::Error`), in `api::problem`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::Error as DieselError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
pub use crate::domain::FieldError;
use crate::domain::Invalid;

/// A problem details object (RFC 9457), the body of every failure.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:aftercare:problem:validation",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "errors": [{"field": "scores.redness", "message": "must be between 0 and 4"}]
}))]
pub struct Problem {
    /// A URN naming the kind of problem; stable, so clients can branch on it.
    #[serde(rename = "type")]
    pub kind: ProblemType,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Which fields were wrong, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The kinds of problem: a fixed list, one per failure the service reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ProblemType {
    #[serde(rename = "urn:aftercare:problem:bad-request")]
    BadRequest,
    #[serde(rename = "urn:aftercare:problem:unauthorized")]
    Unauthorized,
    #[serde(rename = "urn:aftercare:problem:forbidden")]
    Forbidden,
    #[serde(rename = "urn:aftercare:problem:not-found")]
    NotFound,
    #[serde(rename = "urn:aftercare:problem:method-not-allowed")]
    MethodNotAllowed,
    #[serde(rename = "urn:aftercare:problem:conflict")]
    Conflict,
    #[serde(rename = "urn:aftercare:problem:payload-too-large")]
    PayloadTooLarge,
    #[serde(rename = "urn:aftercare:problem:unsupported-media-type")]
    UnsupportedMediaType,
    #[serde(rename = "urn:aftercare:problem:validation")]
    Validation,
    #[serde(rename = "urn:aftercare:problem:unavailable")]
    Unavailable,
    #[serde(rename = "urn:aftercare:problem:timed-out")]
    TimedOut,
    #[serde(rename = "urn:aftercare:problem:too-many-requests")]
    TooManyRequests,
    #[serde(rename = "urn:aftercare:problem:internal")]
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed syntax: a body that is not JSON, a path or query parameter of the wrong form.
    #[error("bad request: {0}")]
    BadRequest(String, Vec<FieldError>),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Well-formed but not acceptable: each wrong field is named.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The database can't be reached or has no free connection; the client should retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The request, or one of its statements, ran past its time limit.
    #[error("timed out")]
    TimedOut,
    /// Too many attempts: retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    pub fn invalid(field: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn kind_and_title(&self) -> (ProblemType, &'static str) {
        match self {
            ApiError::BadRequest(..) => (ProblemType::BadRequest, "The request is malformed"),
            ApiError::Unauthorized(_) => (ProblemType::Unauthorized, "Authentication is required"),
            ApiError::Forbidden => (ProblemType::Forbidden, "Your role may not do this"),
            ApiError::NotFound => (ProblemType::NotFound, "No such resource"),
            ApiError::MethodNotAllowed(_) => (ProblemType::MethodNotAllowed, "Method not allowed"),
            ApiError::Conflict(_) => (
                ProblemType::Conflict,
                "The request conflicts with what is stored",
            ),
            ApiError::PayloadTooLarge(_) => (
                ProblemType::PayloadTooLarge,
                "The request body is too large",
            ),
            ApiError::UnsupportedMediaType => {
                (ProblemType::UnsupportedMediaType, "Send application/json")
            }
            ApiError::Validation(_) => (ProblemType::Validation, "The request is not valid"),
            ApiError::Unavailable(_) => (
                ProblemType::Unavailable,
                "The service is busy or starting; retry shortly",
            ),
            ApiError::TimedOut => (ProblemType::TimedOut, "The request took too long"),
            ApiError::TooManyRequests(_) => (ProblemType::TooManyRequests, "Too many attempts"),
            ApiError::Internal(_) => (ProblemType::Internal, "Something went wrong on our side"),
        }
    }

    /// The problem a client sees. Nothing internal leaks into it.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let (detail, errors) = match self {
            ApiError::BadRequest(detail, errors) => (detail.clone(), errors.clone()),
            ApiError::Unauthorized(detail) => (detail.to_string(), vec![]),
            ApiError::Forbidden => ("this operation is not open to your role".into(), vec![]),
            ApiError::NotFound => (
                "nothing exists here, or it is not yours to see".into(),
                vec![],
            ),
            ApiError::MethodNotAllowed(allow) => (format!("allowed methods: {allow}"), vec![]),
            ApiError::Conflict(detail) => (detail.clone(), vec![]),
            ApiError::PayloadTooLarge(limit) => (format!("the limit is {limit} bytes"), vec![]),
            ApiError::UnsupportedMediaType => ("the body must be application/json".into(), vec![]),
            ApiError::Validation(errors) => {
                let n = errors.len();
                let s = if n == 1 { "field is" } else { "fields are" };
                (format!("{n} {s} not valid"), errors.clone())
            }
            ApiError::Unavailable(_) => (
                "the database is not answering; retry shortly".into(),
                vec![],
            ),
            ApiError::TimedOut => (
                "the request was stopped at its time limit; retry shortly".into(),
                vec![],
            ),
            ApiError::TooManyRequests(secs) => (format!("retry after {secs} seconds"), vec![]),
            ApiError::Internal(_) => (
                "the error was logged under this response's X-Request-Id".into(),
                vec![],
            ),
        };
        Problem {
            kind,
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) | ApiError::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json");
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed(allow) => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::Unavailable(_) | ApiError::TimedOut => {
                res.insert_header((header::RETRY_AFTER, "2"));
            }
            ApiError::TooManyRequests(secs) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            _ => {}
        }
        res.json(self.problem())
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::Validation(invalid.0)
    }
}

impl From<db::Error> for ApiError {
    fn from(e: db::Error) -> Self {
        match e {
            db::Error::NotFound => ApiError::NotFound,
            db::Error::Conflict(message) => ApiError::Conflict(message.into()),
            db::Error::Unavailable(reason) => ApiError::Unavailable(reason),
            db::Error::TimedOut => ApiError::TimedOut,
            db::Error::Query(e) => ApiError::Internal(e.into()),
            db::Error::Other(e) => ApiError::Internal(e),
        }
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        db::Error::from(e).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        db::Error::from(e).into()
    }
}

impl db::Failure for ApiError {
    fn verdict(&self) -> db::Verdict {
        match self {
            ApiError::Unavailable(_) => db::Verdict::Lost,
            ApiError::Internal(_) | ApiError::TimedOut => db::Verdict::Suspect,
            _ => db::Verdict::Sound,
        }
    }
}
