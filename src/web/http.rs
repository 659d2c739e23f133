//! What every request and response gets: a request id and its log line, security headers, CORS
//! for the configured origins, and a time limit.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};

use crate::config::HttpSettings;
use crate::error::ApiError;
use uuid::Uuid;

fn settings(req: &ServiceRequest) -> Option<web::Data<HttpSettings>> {
    req.app_data::<web::Data<HttpSettings>>().cloned()
}

/// Answers a request that takes longer than the configured limit with a 503 (its database work
/// stops at the statement timeout). Runs before routing, where the request can't be kept for the
/// answer, so the answer is an error that carries its own headers.
pub async fn time_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = settings(&req).map_or(Duration::from_secs(30), |s| s.request_timeout);
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(res) => res,
        Err(_) => Err(TimedOut { request_id }.into()),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request ran past its time limit")]
struct TimedOut {
    request_id: Option<String>,
}

impl ResponseError for TimedOut {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = ApiError::TimedOut.error_response();
        let headers = res.headers_mut();
        add_security_headers(headers, Page::Api);
        if let Some(id) = self
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(HeaderName::from_static("x-request-id"), id);
        }
        res
    }
}

const API_HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    // Answers carry health data: no cache may keep them.
    ("cache-control", "no-store"),
];

/// The API docs page runs Swagger UI's own scripts and styles, from this server only.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/// The dashboard runs its own scripts and styles and calls the API, all from this server; no
/// inline code, no other origin. Photos are fetched with the session's token and shown from
/// `blob:` URLs the page made itself.
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The patients' app: as the dashboard, plus its service worker and manifest, its icons, and
/// nothing else; the photo a patient takes is previewed from a `blob:` URL the page made.
const APP_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' blob:; worker-src 'self'; manifest-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// What kind of page an answer is, for its Content-Security-Policy.
#[derive(Debug, Clone, Copy)]
enum Page {
    Api,
    Docs,
    Dashboard,
    App,
}

/// Security headers on every response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let page = if req.path().starts_with("/docs") {
        Page::Docs
    } else if crate::web::dashboard::is_dashboard(req.path()) {
        Page::Dashboard
    } else if crate::web::app::is_app(req.path()) {
        Page::App
    } else {
        Page::Api
    };
    let mut res = next.call(req).await?;
    add_security_headers(res.headers_mut(), page);
    Ok(res)
}

fn add_security_headers(headers: &mut actix_web::http::header::HeaderMap, page: Page) {
    for (name, value) in API_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    let csp = match page {
        Page::Api => return,
        Page::Docs => DOCS_CSP,
        Page::Dashboard => DASHBOARD_CSP,
        Page::App => APP_CSP,
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
}

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE";
const ALLOWED_HEADERS: &str = "authorization, content-type, x-request-id";
const EXPOSED_HEADERS: &str = "location, retry-after, x-request-id";

/// CORS for the configured origins only: a preflight from one is answered here, and its other
/// requests get `Access-Control-Allow-Origin`. Other origins get no CORS headers, so browsers keep
/// their pages out.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let origins = settings(&req)
        .map(|s| s.cors_origins.clone())
        .unwrap_or_default();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| origins.iter().any(|allowed| allowed == o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let Some(origin) = origin else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let res = HttpResponse::build(StatusCode::NO_CONTENT)
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "3600"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(res));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(res)
}

/// The id of one request: the caller's `X-Request-Id` when it is a sane token, else a new UUID.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Tags each request with an id, returns it in `X-Request-Id`, logs one line per request and the
/// cause of every 5xx (which the client never sees).
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    // Handlers' and extractors' errors arrive here as responses, so the header is always added;
    // only the time limit's answer arrives as an error, with its own headers.
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = match tracing::Instrument::instrument(next.call(req), span).await {
        Ok(res) => res,
        Err(e) => {
            tracing::warn!(request_id = %id, method = %method, path = %path, error = %e,
                ms = started.elapsed().as_millis() as u64, "request stopped");
            return Err(e);
        }
    };
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let metrics = &crate::web::metrics::METRICS;
    metrics
        .requests
        .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
        .inc();
    metrics
        .request_seconds
        .with_label_values(&[route.as_str(), method.as_str()])
        .observe(started.elapsed().as_secs_f64());
    if status.is_server_error() {
        match res.response().error() {
            Some(e) => match e.as_error::<ApiError>() {
                Some(api) => tracing::error!(request_id = %id, error = %api, "request failed"),
                None => tracing::error!(request_id = %id, error = %e, "request failed"),
            },
            None => tracing::error!(request_id = %id, "request failed"),
        }
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        status = status.as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    Ok(res)
}
