//! The command line: `serve`, `migrate`, `openapi`, `admin create-clinic` and `admin verify-audit`.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::Settings;
use crate::db;
use crate::domain::people::StaffRole;
use crate::local::postgres::LocalPostgres;
use crate::startup::Application;
use crate::workers::audit_sealing::Verdict;

#[derive(Parser)]
#[command(
    name = "aftercare",
    version,
    about = "Follow patients' recovery after skin-needling treatments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API on AFTERCARE_ADDR (AFTERCARE_PUBLIC_URL is
    /// required: the URL clients reach it at).
    Serve,
    /// Serve a demo clinic: creates it (once) with three protocols, a clinician, an admin and about
    /// 300 patients recovering, then serves it on AFTERCARE_ADDR (and at AFTERCARE_PUBLIC_URL, or
    /// else at that address).
    Demo,
    /// Apply pending migrations to DATABASE_URL.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Operator tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a clinic and its first admin; prints {"clinic_id", "admin_id", "clinic_code"}.
    CreateClinic {
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Europe/Berlin: days since treatment are counted in it.
        #[arg(long)]
        timezone: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, env = "AFTERCARE_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
        /// The admin's name (default: the email).
        #[arg(long)]
        admin_name: Option<String>,
    },
    /// Check every clinic's audit chain (or one clinic's); names the first broken record and exits
    /// with status 1 if there is one.
    VerifyAudit {
        #[arg(long)]
        clinic: Option<Uuid>,
    },
}

pub fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            println!("{}", crate::api::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Migrate => {
            init_logging();
            let (url, _local) = database()?;
            let applied = migrate(&url)?;
            tracing::info!(count = applied.len(), "migrations applied");
            Ok(())
        }
        Command::Serve => {
            init_logging();
            let (url, _local) = database()?;
            let settings = Settings::from_env(url, None)?;
            if settings.http.public_url.is_none() {
                bail!(crate::config::PUBLIC_URL_MISSING);
            }
            migrate(&settings.database_url)?;
            serve(settings, false)
        }
        Command::Demo => {
            init_logging();
            let (url, _local) = database()?;
            // A one-off secret, unless one is set: the demo's tokens end with it.
            let secret = hex::encode(rand::random::<[u8; 32]>());
            let mut settings = Settings::from_env(url, Some(secret))?;
            // The demo enrolls its 300 patients' phones from this machine.
            settings.http.auth_attempts_per_minute =
                settings.http.auth_attempts_per_minute.max(1000);
            // Its webhooks may go to a receiver on this machine, to try them out.
            settings.webhooks.targets.allow_private = true;
            // Web Push with a key of its own, made once and kept beside its data.
            if settings.push.is_none() {
                let vapid = crate::local::demo::vapid()?;
                settings.push = Some(crate::config::PushSettings {
                    targets: settings.webhooks.targets,
                    ..crate::config::PushSettings::new(vapid)
                });
            }
            migrate(&settings.database_url)?;
            crate::local::demo::create_clinic(&mut connect(&settings.database_url)?)?;
            serve(settings, true)
        }
        Command::Admin {
            command:
                AdminCommand::CreateClinic {
                    name,
                    timezone,
                    admin_email,
                    admin_password,
                    admin_name,
                },
        } => {
            let (url, _local) = database()?;
            let mut conn = connect(&url)?;
            db::migrate(&mut conn)?;
            let out = create_clinic(
                &mut conn,
                &name,
                &timezone,
                &admin_email,
                &admin_password,
                admin_name,
            )?;
            println!("{out}");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::VerifyAudit { clinic },
        } => {
            let (url, _local) = database()?;
            let mut conn = connect(&url)?;
            if !verify_audit(&mut conn, clinic)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Prints each clinic's verdict; false if a chain is broken.
fn verify_audit(conn: &mut PgConnection, clinic: Option<Uuid>) -> anyhow::Result<bool> {
    let clinics = match clinic {
        Some(id) => vec![id],
        None => db::audit::clinics(conn)?,
    };
    let mut intact = true;
    for id in clinics {
        match crate::workers::audit_sealing::verify(conn, db::Tenant::new(id.into()))? {
            Verdict::Intact { sealed, unsealed } => {
                println!("clinic {id}: intact, {sealed} sealed records ({unsealed} not sealed yet)")
            }
            Verdict::Broken {
                record,
                seq,
                reason,
            } => {
                intact = false;
                let record = record.map_or("-".to_string(), |r| r.to_string());
                println!("clinic {id}: BROKEN at record {record} (seq {seq}): {reason}");
            }
        }
    }
    Ok(intact)
}

/// Serves until SIGTERM or SIGINT; for the demo, fills the demo clinic first (unless it is full) and
/// says where to find it.
#[actix_web::main]
async fn serve(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    if settings.http.photo_store.is_none() {
        let dir = crate::local::postgres::data_dir()?.join("photos");
        let url = url::Url::from_directory_path(&dir)
            .map_err(|_| anyhow::anyhow!("{} is not an absolute path", dir.display()))?;
        settings.http.photo_store = Some(url.to_string());
    }
    let app = Application::build(&settings)?;
    let port = app.port();
    tracing::info!(addr = %settings.addr, port, "serving");
    let running = actix_web::rt::spawn(app.run_until_signalled(settings.shutdown_grace)?);
    if demo {
        let base = format!("http://127.0.0.1:{port}");
        tracing::info!("adding the demo clinic's patients (a minute or so)");
        crate::local::demo::populate(&base).await?;
        // Patients who went quiet, and slower than usual as the whole cohort says, without
        // waiting for the jobs' next run.
        let url = settings.database_url.clone();
        actix_web::web::block(move || -> anyhow::Result<()> {
            let mut conn = connect(&url)?;
            let store = crate::read_model::Store::new();
            crate::workers::silence::run_once(&mut conn, &store, chrono::Utc::now())?;
            crate::workers::peers::run_once(&mut conn, &store, chrono::Utc::now())?;
            Ok(())
        })
        .await??;
        crate::local::demo::handle_old_work(&base).await?;
    }
    if demo {
        let host = settings
            .addr
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h);
        let base = settings
            .http
            .public_url
            .as_ref()
            .map_or_else(|| format!("http://{host}:{port}"), ToString::to_string);
        // Said once; a terminal that has gone away is no reason to stop serving.
        let _ = writeln!(
            std::io::stdout(),
            "\nAftercare demo clinic \"{}\"\n  API:        {base}/v1\n  Docs:       {base}/docs/\n  Dashboard:  {base}/dashboard\n  App:        {base}/app (patients' phones; enroll one from a patient's page)\n  Clinician:  {} / {}\n  Admin:      {} / {}\n  (demo passwords: never use them for real patients)\n",
            crate::local::demo::CLINIC,
            crate::local::demo::CLINICIAN,
            crate::local::demo::PASSWORD,
            crate::local::demo::ADMIN,
            crate::local::demo::PASSWORD
        );
    }
    running.await??;
    Ok(())
}

/// JSON lines by default, one object per event with the request's id; `AFTERCARE_LOG_FORMAT=text`
/// for people reading a terminal.
fn init_logging() {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    if std::env::var("AFTERCARE_LOG_FORMAT").is_ok_and(|f| f == "text") {
        logs.init();
    } else {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    }
}

/// `DATABASE_URL`, or else a PostgreSQL of Aftercare's own, started now and stopped when the
/// returned guard is dropped.
fn database() -> anyhow::Result<(String, Option<LocalPostgres>)> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok((url, None));
    }
    let dir = crate::local::postgres::data_dir()?.join("postgres");
    let local = LocalPostgres::start(&dir)?;
    let url = local.database("aftercare")?;
    tracing::info!(data = %dir.display(), "DATABASE_URL is not set: using Aftercare's own PostgreSQL");
    Ok((url, Some(local)))
}

fn connect(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::establish(url).context("connecting to DATABASE_URL")
}

fn migrate(url: &str) -> anyhow::Result<Vec<String>> {
    db::migrate(&mut connect(url)?)
}

/// Creates a clinic with its first admin and returns `{"clinic_id", "admin_id", "clinic_code"}`: the
/// code is what staff who work at more than one clinic give when signing in.
pub fn create_clinic(
    conn: &mut PgConnection,
    name: &str,
    timezone: &str,
    admin_email: &str,
    admin_password: &str,
    admin_name: Option<String>,
) -> anyhow::Result<serde_json::Value> {
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        bail!("{timezone:?} is not an IANA time zone (e.g. Europe/Berlin)");
    }
    if name.trim().is_empty() {
        bail!("the clinic needs a name");
    }
    let clinic = db::clinics::Clinic {
        id: crate::domain::ids::ClinicId::new_v4(),
        name: name.trim().into(),
        timezone: timezone.into(),
        created_at: Utc::now(),
        contact_phone: None,
        reminder_hour: crate::domain::clinic::DEFAULT_REMINDER_HOUR,
        code: crate::domain::clinic::ClinicCode::generate().to_string(),
    };
    let request = crate::services::staff::NewStaff {
        email: admin_email.into(),
        password: admin_password.into(),
        role: StaffRole::Admin,
        name: admin_name.unwrap_or_else(|| admin_email.into()),
    };
    let admin = crate::services::staff::account(&request).map_err(|e| match e {
        crate::services::Error::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("admin {}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    })?;
    let clinic =
        db::clinics::create_with_admin(conn, &clinic, &admin).map_err(
            |e| match db::Error::from(e) {
                db::Error::Conflict(msg) => anyhow::anyhow!("{msg}"),
                other => anyhow::anyhow!("{other}"),
            },
        )?;
    Ok(
        serde_json::json!({"clinic_id": clinic.id, "admin_id": admin.id, "clinic_code": clinic.code}),
    )
}
