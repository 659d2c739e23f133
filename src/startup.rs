//! Builds the service: pool, keys, routes, middleware; binds its port (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, ResponseError, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::health::Draining;
use crate::api::{self, RouteTable, extract};
use crate::config::{HttpSettings, PushSettings, Settings, WebhookSettings};
use crate::db::{self, Pool};
use crate::read_model::Store;
use crate::web::auth::Keys;
use crate::web::auth::RouteRoles;

pub struct Application {
    port: u16,
    server: Server,
    draining: web::Data<Draining>,
    limits: web::Data<crate::web::limits::Limits>,
    threads: crate::workers::Threads,
    photos: Arc<crate::services::photo_store::PhotoStore>,
}

/// What runs beside the API. Tests leave out what they don't exercise.
#[derive(Debug, Clone, Default)]
pub struct Background {
    /// How often the missed check-ins job runs (it runs at start too).
    pub job_interval: Option<std::time::Duration>,
    /// The webhook delivery worker, and how it sends and retries.
    pub webhooks: Option<WebhookSettings>,
    /// Web Push: the key `/v1/push/config` shows, the reminders' push messages, and the worker that
    /// sends them. Without it, reminders go out as webhook events only.
    pub push: Option<PushSettings>,
    /// The FHIR Bulk Data export worker.
    pub fhir_exports: Option<crate::config::ExportSettings>,
}

impl Application {
    pub fn build(settings: &Settings) -> anyhow::Result<Application> {
        let pool = db::pool::build(
            &settings.database_url,
            &db::PoolSettings {
                max_size: settings.db_pool_size,
                acquire_timeout: settings.db_acquire_timeout,
                statement_timeout: settings.db_statement_timeout,
                test_on_check_out: settings.db_test_on_check_out,
            },
        );
        let listener = TcpListener::bind(&settings.addr)?;
        let background = Background {
            job_interval: Some(settings.job_interval),
            webhooks: Some(settings.webhooks.clone()),
            push: settings.push.clone(),
            fhir_exports: Some(settings.fhir_exports),
        };
        Self::with_listener(
            listener,
            pool,
            Keys::new(&settings.jwt),
            settings.http.clone(),
            background,
        )
    }

    /// The service on `listener`, and what `background` asks for beside it: the jobs (their first
    /// run also loads the recovery read model, so the first view needn't wait for it), and the
    /// webhook worker (on the calling Tokio runtime).
    pub fn with_listener(
        listener: TcpListener,
        pool: Pool,
        keys: Keys,
        http: HttpSettings,
        background: Background,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        // The one base of every absolute URL the service writes; no request header chooses it.
        let public_url = web::Data::new(http.public_url.clone().unwrap_or(
            crate::config::PublicUrl::listening_on(listener.local_addr()?),
        ));
        let doc = api::openapi();
        let routes = Arc::new(RouteTable::new(&doc, http.docs));
        let docs = http.docs;
        let photos = web::Data::new(crate::services::photo_store::PhotoStore::of_setting(
            http.photo_store.as_deref(),
        )?);
        let http = web::Data::new(http);
        let pool = web::Data::new(pool);
        let keys = web::Data::new(keys);
        let store = web::Data::new(Store::new());
        let check_ins = web::Data::new(crate::services::check_ins::Deps {
            store: store.clone().into_inner(),
            clinics: Default::default(),
        });
        let limits = web::Data::new(crate::web::limits::Limits::new(
            http.auth_attempts_per_minute,
        ));
        let draining = web::Data::new(Draining::default());
        let clinics = web::Data::new(crate::web::auth::KnownClinics::default());
        // Registration checks the same rule as the worker; with no worker, only public targets.
        let targets = web::Data::new(
            background
                .webhooks
                .as_ref()
                .map(|w| w.targets)
                .unwrap_or_default(),
        );
        let sessions = web::Data::new(crate::web::auth::sessions::LiveSessions::default());
        let push_key = web::Data::new(crate::api::push::PushKey(
            background.push.as_ref().map(|p| p.vapid.public_key()),
        ));
        let draining_ = draining.clone();
        let mut threads = crate::workers::Threads::default();
        if let Some(interval) = background.job_interval {
            threads.handles.push(crate::workers::silence::spawn(
                pool.get_ref().clone(),
                store.clone().into_inner(),
                interval,
                threads.stop.clone(),
            ));
            threads.handles.push(crate::workers::audit_sealing::spawn(
                pool.get_ref().clone(),
                threads.stop.clone(),
            ));
            threads.handles.push(crate::workers::reminders::spawn(
                pool.get_ref().clone(),
                interval,
                background.push.is_some(),
                threads.stop.clone(),
            ));
        }
        if let Some(settings) = background.fhir_exports {
            threads.handles.push(crate::workers::fhir_export::spawn(
                pool.get_ref().clone(),
                settings,
                threads.stop.clone(),
            ));
        }
        if let Some(settings) = background.webhooks {
            threads.tasks.push(crate::workers::webhook_delivery::spawn(
                pool.get_ref().clone(),
                settings,
                threads.stop.clone(),
            )?);
        }
        if let Some(settings) = background.push {
            threads.tasks.push(crate::workers::push_delivery::spawn(
                pool.get_ref().clone(),
                settings,
                threads.stop.clone(),
            )?);
        }
        let limits_ = limits.clone();
        let photos_ = photos.clone().into_inner();
        let server = HttpServer::new(move || {
            let routes = routes.clone();
            let app = App::new()
                .app_data(pool.clone())
                .app_data(web::Data::new(RouteRoles(crate::api::roles_of)))
                .app_data(keys.clone())
                .app_data(store.clone())
                .app_data(check_ins.clone())
                .app_data(http.clone())
                .app_data(public_url.clone())
                .app_data(limits.clone())
                .app_data(clinics.clone())
                .app_data(targets.clone())
                .app_data(sessions.clone())
                .app_data(push_key.clone())
                .app_data(photos.clone())
                .app_data(draining_.clone())
                .app_data(web::Data::from(routes.clone()))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .wrap(from_fn(crate::web::auth::known_clinics))
                .wrap(from_fn(crate::api::trail::middleware))
                .wrap(from_fn(crate::web::http::cors))
                .wrap(from_fn(crate::web::http::security_headers))
                .wrap(from_fn(crate::web::http::time_limit))
                .wrap(from_fn(crate::web::http::request_id))
                .into_utoipa_app()
                .configure(api::routes)
                .into_app()
                .configure(crate::web::dashboard::routes)
                .configure(crate::web::app::routes);
            let app = if docs {
                app.service(web::redirect("/docs", "/docs/"))
                    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
            } else {
                app
            };
            app.default_service(web::to(move |req: actix_web::HttpRequest| {
                let answer = routes.fallback(&req).error_response();
                async move { answer }
            }))
        })
        .listen(listener)?
        // Signals are handled in `run_until_signalled`, so that readiness fails first.
        .disable_signals()
        .shutdown_timeout(30)
        .run();
        Ok(Application {
            photos: photos_,
            port,
            server,
            draining,
            limits: limits_,
            threads,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The sign-in limits' counts, for tests that check they stay bounded.
    pub fn limits(&self) -> Arc<crate::web::limits::Limits> {
        self.limits.clone().into_inner()
    }

    /// The store the photos are kept in, for tests that look in it.
    pub fn photos(&self) -> Arc<crate::services::photo_store::PhotoStore> {
        self.photos.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Application {
            server, threads, ..
        } = self;
        let served = server.await;
        stop_jobs(threads).await;
        served
    }

    /// Serves until SIGTERM or SIGINT. Then `/readyz` fails at once, requests are still served for
    /// `grace` (while load balancers take the instance out), and the process exits once the requests
    /// in flight have finished (30 seconds at most).
    ///
    /// The signals are taken over when this is called (inside the runtime), not when the returned
    /// future is first polled, so that one sent in between is not missed.
    pub fn run_until_signalled(
        self,
        grace: std::time::Duration,
    ) -> std::io::Result<impl Future<Output = std::io::Result<()>>> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        let draining = self.draining.clone();
        actix_web::rt::spawn(async move {
            let (term, int) = (std::pin::pin!(term.recv()), std::pin::pin!(int.recv()));
            let name = match futures_util::future::select(term, int).await {
                futures_util::future::Either::Left(_) => "SIGTERM",
                futures_util::future::Either::Right(_) => "SIGINT",
            };
            draining.0.store(true, Ordering::SeqCst);
            tracing::info!(
                signal = name,
                grace_ms = grace.as_millis() as u64,
                "shutting down: not ready from now on"
            );
            actix_web::rt::time::sleep(grace).await;
            handle.stop(true).await;
        });
        let Application {
            server, threads, ..
        } = self;
        Ok(async move {
            server.await?;
            tracing::info!("stopped: every request in flight was answered");
            stop_jobs(threads).await;
            Ok(())
        })
    }
}

/// Stops the jobs' threads and waits for them, so that none is using a database connection (over
/// TLS, perhaps) when the process exits.
async fn stop_jobs(threads: crate::workers::Threads) {
    let limit = std::time::Duration::from_secs(10);
    let stopped = actix_web::rt::task::spawn_blocking(move || threads.stop_and_join(limit)).await;
    if !matches!(stopped, Ok(true)) {
        tracing::warn!("a background job did not stop within 10 s");
    }
}
