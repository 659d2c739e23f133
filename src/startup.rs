//! Builds the service: pool, keys, routes, middleware; binds its port (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, Error, HttpMessage, HttpServer, ResponseError, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

use crate::api::{self, RouteTable, extract};
use crate::auth::Keys;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::recovery::Store;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(settings: &Settings) -> anyhow::Result<Application> {
        let pool = db::pool(
            &settings.database_url,
            settings.db_pool_size,
            settings.db_acquire_timeout,
        );
        let listener = TcpListener::bind(&settings.addr)?;
        Self::with_listener(
            listener,
            pool,
            Keys::new(&settings.jwt),
            Some(settings.job_interval),
        )
    }

    /// The service on `listener`; with `job_interval`, the background jobs run too (their first run
    /// also loads the recovery read model, so the first view needn't wait for it).
    pub fn with_listener(
        listener: TcpListener,
        pool: Pool,
        keys: Keys,
        job_interval: Option<std::time::Duration>,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let doc = api::openapi();
        let routes = Arc::new(RouteTable::new(&doc));
        let pool = web::Data::new(pool);
        let keys = web::Data::new(keys);
        let store = web::Data::new(Store::new());
        if let Some(interval) = job_interval {
            crate::jobs::spawn(pool.get_ref().clone(), store.clone().into_inner(), interval);
        }
        let server = HttpServer::new(move || {
            let routes = routes.clone();
            App::new()
                .app_data(pool.clone())
                .app_data(keys.clone())
                .app_data(store.clone())
                .app_data(web::Data::from(routes.clone()))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .wrap(from_fn(crate::audit::middleware))
                .wrap(from_fn(request_id))
                .into_utoipa_app()
                .configure(api::routes)
                .into_app()
                .service(web::redirect("/docs", "/docs/"))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .default_service(web::to(move |req: actix_web::HttpRequest| {
                    let answer = routes.fallback(&req).error_response();
                    async move { answer }
                }))
        })
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The id of one request: the caller's `X-Request-Id` when it is a sane token, else a new UUID.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Tags each request with an id, returns it in `X-Request-Id`, logs one line per request and the
/// cause of every 5xx (which the client never sees).
async fn request_id(
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
    // Handlers' and extractors' errors arrive here as responses, so the header is always added.
    let mut res = next.call(req).await?;
    let status = res.status();
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
