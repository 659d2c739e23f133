//! The test harness: each test gets its own database, cloned from a template that is migrated once,
//! and the real server on a free port.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use aftercare::config::{HttpSettings, JwtSettings};
use aftercare::db;
use aftercare::local::postgres::LocalPostgres;
use aftercare::startup::{Application, Background};
use aftercare::web::auth::Keys;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use p384::elliptic_curve::rand_core::OsRng;
use p384::elliptic_curve::sec1::ToEncodedPoint;
use p384::pkcs8::EncodePrivateKey;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0001";
pub const PREVIOUS_SECRET: &str = "old-secret-old-secret-old-secret-old-0002";
pub const PASSWORD: &str = "correct-horse-battery";

/// The PostgreSQL server the tests use: `TEST_DATABASE_URL` without its query (see `db_url`), or
/// else one of Aftercare's own, started as `aftercare serve` starts it (and left running for the
/// next test run).
pub fn server_url() -> String {
    server().0
}

/// `TEST_DATABASE_URL`'s query (`sslmode=verify-full&sslrootcert=...`), if it has one.
fn server_params() -> Option<String> {
    server().1
}

fn server() -> (String, Option<String>) {
    static URL: OnceLock<(String, Option<String>)> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            return match url.split_once('?') {
                Some((base, query)) => (base.trim_end_matches('/').to_string(), Some(query.into())),
                None => (url, None),
            };
        }
        let url = {
            let dir = aftercare::local::postgres::data_dir()
                .expect("a data directory")
                .join("test-postgres");
            let pg = LocalPostgres::start(&dir).unwrap_or_else(|e| panic!("{e:#}"));
            let url = pg.url("").trim_end_matches('/').to_string();
            pg.keep_running();
            url
        };
        (url, None)
    })
    .clone()
}

/// The URL of the database `name` on the test server, with `TEST_DATABASE_URL`'s query if it has
/// one (`.ci/tls` runs a module on `sslmode=verify-full`). Else without TLS or GSSAPI: the server
/// is on this machine, and OpenSSL's clean-up at a test process's exit would race the connection
/// pool's own threads, still connecting (a test process that had passed then died of SIGSEGV or
/// SIGABRT).
pub fn db_url(name: &str) -> String {
    let params = server_params().unwrap_or_else(|| "sslmode=disable&gssencmode=disable".into());
    format!("{}/{name}?{params}", server_url())
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// The template's name changes with the migrations, so a stale template is never used.
fn template_name() -> String {
    let mut dirs: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations folder")
        .map(|e| e.expect("migration entry").path())
        .collect();
    dirs.sort();
    let mut hash = Sha256::new();
    for dir in dirs {
        hash.update(dir.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update(std::fs::read(dir.join("up.sql")).unwrap_or_default());
    }
    format!("aftercare_tpl_{}", &hex::encode(hash.finalize())[..16])
}

fn admin_connection() -> PgConnection {
    PgConnection::establish(&db_url("postgres")).expect("connect to PostgreSQL")
}

/// Creates and migrates the template once; other test processes wait on the advisory lock.
fn ensure_template(conn: &mut PgConnection) -> String {
    let template = template_name();
    diesel::sql_query("SELECT pg_advisory_lock(727274)")
        .execute(conn)
        .expect("lock");
    let exists = !diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(&template)
        .load::<Name>(conn)
        .expect("look up template")
        .is_empty();
    if !exists {
        let building = format!("{template}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
            .execute(conn)
            .expect("drop");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(conn)
            .expect("create");
        {
            let mut db = PgConnection::establish(&db_url(&building)).expect("connect");
            db::migrate(&mut db).expect("migrate template");
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(conn)
            .expect("rename template");
    }
    diesel::sql_query("SELECT pg_advisory_unlock(727274)")
        .execute(conn)
        .expect("unlock");
    template
}

/// A fresh, migrated database of the test's own; its URL.
pub fn fresh_database() -> (String, String) {
    let mut conn = admin_connection();
    let template = ensure_template(&mut conn);
    let name = format!("aftercare_test_{}", Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .expect("create test database");
    (name.clone(), db_url(&name))
}

/// A new database with nothing in it, not even the migrations (to restore a dump into); its URL.
pub fn empty_database() -> (String, String) {
    let name = format!("aftercare_test_{}", Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE template0"))
        .execute(&mut admin_connection())
        .expect("create an empty database");
    (name.clone(), db_url(&name))
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db_url: String,
    /// The app's sign-in limits, to count what they keep.
    pub limits: std::sync::Arc<aftercare::web::limits::Limits>,
    /// The app's photo store, to look in.
    pub photos: std::sync::Arc<aftercare::services::photo_store::PhotoStore>,
    /// The database this app drops when the test ends; none for another instance on it.
    db_name: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = &self.db_name {
            drop_database(name);
        }
    }
}

/// Drops a test's database (from a thread of its own: the test's runtime may not block).
pub fn drop_database(name: &str) {
    let name = name.to_string();
    let _ = std::thread::spawn(move || {
        let mut conn = admin_connection();
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn)
    })
    .join();
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status, and returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{:#}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .unwrap_or("")
                .starts_with("urn:aftercare:problem:")
        );
        &self.body
    }

    /// The fields a validation problem names.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        &self.body
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(HttpSettings::default(), Background::default()).await
}

/// The app with these HTTP settings, and what `background` asks for running beside it (the
/// webhook worker, say).
pub async fn spawn_app_with(http: HttpSettings, background: Background) -> TestApp {
    spawn_app_through(http, background, str::to_string).await
}

/// The app, connecting to its database at the URL `route` makes of the database's own (through a
/// proxy, say); the test itself connects directly.
pub async fn spawn_app_through(
    http: HttpSettings,
    background: Background,
    route: impl FnOnce(&str) -> String,
) -> TestApp {
    let (db_name, db_url) = tokio::task::spawn_blocking(fresh_database)
        .await
        .expect("database");
    let app_url = route(&db_url);
    serve(&app_url, db_url, Some(db_name), http, background)
}

/// The server on `db_url`, which the app drops at the end when it names it as `owned`.
pub fn serve(
    app_url: &str,
    db_url: String,
    owned: Option<String>,
    http: HttpSettings,
    background: Background,
) -> TestApp {
    let pool = db::pool(app_url, 5, Duration::from_secs(2), Duration::from_secs(5));
    let keys = Keys::new(&JwtSettings {
        secret: SECRET.into(),
        previous_secret: Some(PREVIOUS_SECRET.into()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    // .ci/photos runs the photo tests again against an S3-compatible store.
    let http = HttpSettings {
        photo_store: http
            .photo_store
            .or_else(|| std::env::var("AFTERCARE_PHOTO_STORE").ok()),
        ..http
    };
    let app =
        Application::with_listener(listener, pool, keys, http, background).expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let limits = app.limits();
    let photos = app.photos();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        // Idle connections are dropped well before the server's keep-alive (5 s) closes them, so
        // that a request after a pause (a test making an RSA key) never lands on a connection the
        // server is closing (hyper's IncompleteMessage).
        client: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("an HTTP client"),
        db_url,
        limits,
        photos,
        db_name: owned,
    }
}

impl TestApp {
    /// Another instance of the service on this app's database, as a clinic group runs several
    /// behind a load balancer: its own read model, rate limits and jobs. Tokens work on both.
    pub fn another_instance(&self, background: Background) -> TestApp {
        serve(
            &self.db_url,
            self.db_url.clone(),
            None,
            HttpSettings::default(),
            background,
        )
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        into_resp(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(reqwest::Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn post_anon(&self, path: &str, body: Value) -> Resp {
        self.request(reqwest::Method::POST, path, None, Some(&body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(reqwest::Method::PATCH, path, Some(token), Some(&body))
            .await
    }

    /// Posts the check-in with this (patient's) token.
    pub async fn check_in(&self, token: &str, check_in: &CheckIn) -> Resp {
        self.post("/v1/check-ins", token, check_in.body()).await
    }

    /// Posts the check-ins as one batch, as a phone that was offline sends them.
    pub async fn check_in_batch(&self, token: &str, check_ins: &[CheckIn]) -> Resp {
        let items: Vec<Value> = check_ins.iter().map(CheckIn::body).collect();
        self.post("/v1/check-ins/batch", token, json!({"check_ins": items}))
            .await
    }

    pub fn db(&self) -> PgConnection {
        PgConnection::establish(&self.db_url).expect("connect to the test database")
    }

    /// A clinic with its admin, created as an operator would, from the command line's code.
    pub async fn clinic(&self, name: &str, timezone: &str) -> Clinic {
        let email = format!(
            "admin-{}@{}.example",
            Uuid::new_v4().simple(),
            name.to_lowercase().replace(' ', "-")
        );
        let (url, n, tz, e) = (
            self.db_url.clone(),
            name.to_string(),
            timezone.to_string(),
            email.clone(),
        );
        let out = tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&url).expect("connect");
            aftercare::cli::create_clinic(&mut conn, &n, &tz, &e, PASSWORD, None)
                .expect("create clinic")
        })
        .await
        .expect("create clinic");
        let admin = self.login(&email, PASSWORD).await;
        Clinic {
            id: out["clinic_id"].as_str().unwrap().parse().unwrap(),
            admin: admin["access_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let r = self
            .post_anon(
                "/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        r.ok(200).clone()
    }

    /// A clinician of the clinic, signed in; their access token.
    pub async fn clinician(&self, clinic: &Clinic) -> String {
        let email = format!("clinician-{}@clinic.example", Uuid::new_v4().simple());
        self.staff_member(&clinic.admin, &email, "clinician", "Dr. Test")
            .await
    }

    /// A staff member added by `admin` (password [`PASSWORD`]), signed in; their access token.
    pub async fn staff_member(&self, admin: &str, email: &str, role: &str, name: &str) -> String {
        let body = json!({"email": email, "password": PASSWORD, "role": role, "name": name});
        self.post("/v1/staff", admin, body).await.ok(201);
        self.login(email, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn protocol(&self, token: &str, name: &str) -> String {
        let body = json!({"name": name, "procedure": "microneedling", "needle_depth_mm": 1.0, "areas": ["face"],
                          "sessions_planned": 3, "interval_days": 28});
        id_of(self.post("/v1/protocols", token, body).await.ok(201))
    }

    pub async fn patient(&self, token: &str, external_ref: &str) -> String {
        let body = json!({"external_ref": external_ref, "fitzpatrick_type": 2, "concerns": ["acne_scars"]});
        id_of(self.post("/v1/patients", token, body).await.ok(201))
    }

    pub async fn treatment(
        &self,
        token: &str,
        patient: &str,
        protocol: &str,
        performed_at: DateTime<Utc>,
    ) -> String {
        let body = json!({"protocol_id": protocol, "performed_at": performed_at, "contraindications": no_contraindications()});
        id_of(
            self.post(&format!("/v1/patients/{patient}/treatments"), token, body)
                .await
                .ok(201),
        )
    }

    /// Enrolls the patient's app; the patient's access token and refresh token.
    pub async fn enroll(&self, token: &str, patient: &str) -> (String, String) {
        let code = self
            .post(
                &format!("/v1/patients/{patient}/enrollment-codes"),
                token,
                json!(null),
            )
            .await;
        let code = code.ok(201)["code"].as_str().unwrap().to_string();
        let tokens = self
            .post_anon("/v1/auth/enroll", json!({"code": code}))
            .await;
        let tokens = tokens.ok(200);
        (
            tokens["access_token"].as_str().unwrap().to_string(),
            tokens["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// A clinic with a clinician, a protocol, and two enrolled patients with a treatment each,
    /// performed two days ago.
    pub async fn scenario(&self, name: &str) -> Scenario {
        let clinic = self.clinic(name, "Europe/Berlin").await;
        let clinician = self.clinician(&clinic).await;
        let protocol = self.protocol(&clinician, "Face 1.0 mm").await;
        let performed_at = Utc::now() - chrono::Duration::days(2);
        let mut patients = vec![];
        for n in 0..2 {
            let id = self.patient(&clinician, &format!("MRN-{n}")).await;
            let treatment = self
                .treatment(&clinician, &id, &protocol, performed_at)
                .await;
            let (token, refresh) = self.enroll(&clinician, &id).await;
            patients.push(Patient {
                id,
                treatment,
                token,
                refresh,
            });
        }
        Scenario {
            clinic,
            clinician,
            protocol,
            patients,
            performed_at,
        }
    }
}

pub async fn into_resp(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Resp {
        status,
        headers,
        body,
    }
}

pub fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_string()
}

pub fn no_contraindications() -> Value {
    json!({"active_acne": false, "skin_infection": false, "eczema_psoriasis": false, "keloid_history": false,
           "bleeding_disorder": false, "pregnancy": false, "skin_allergy": false, "diabetes": false})
}

pub struct Clinic {
    pub id: Uuid,
    pub admin: String,
}

pub struct Patient {
    pub id: String,
    pub treatment: String,
    pub token: String,
    pub refresh: String,
}

pub struct Scenario {
    pub clinic: Clinic,
    pub clinician: String,
    pub protocol: String,
    pub patients: Vec<Patient>,
    pub performed_at: DateTime<Utc>,
}

/// A check-in as the patient's phone sends it: a fresh id, the treatment, when it was recorded,
/// and the scores (a symptom's code to its rating); answers about aftercare and a note if wanted.
/// It checks nothing, so scores and times the app must refuse are written here too; a body of the
/// wrong shape (an unknown field, a wrong type, a time without its offset) is raw JSON instead.
#[derive(Clone, Debug, Serialize)]
pub struct CheckIn {
    pub id: Uuid,
    pub treatment_id: String,
    pub recorded_at: DateTime<Utc>,
    pub scores: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aftercare: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CheckIn {
    pub fn new(treatment: &str, recorded_at: DateTime<Utc>, scores: Value) -> CheckIn {
        CheckIn {
            id: Uuid::new_v4(),
            treatment_id: treatment.to_string(),
            recorded_at,
            scores,
            aftercare: None,
            note: None,
        }
    }

    pub fn aftercare(self, aftercare: Value) -> CheckIn {
        CheckIn {
            aftercare: Some(aftercare),
            ..self
        }
    }

    pub fn note(self, note: &str) -> CheckIn {
        CheckIn {
            note: Some(note.to_string()),
            ..self
        }
    }

    /// The JSON body, for a test that changes it into one of the wrong shape or sends it itself.
    pub fn body(&self) -> Value {
        serde_json::to_value(self).expect("a check-in as JSON")
    }
}

/// The clinic's audit trail as `admin` reads it: up to 200 records matching `query`.
pub async fn trail(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/v1/audit-events?limit=200&{query}"), admin)
        .await
        .ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// A GET that must answer 200, as a test beside a browser asks it.
pub async fn api_get(app: &TestApp, path: &str, token: &str) -> Value {
    app.get(path, token).await.ok(200).clone()
}

/// A P-384 key pair of a SMART backend client: the signing key and its public JWK.
fn client_key() -> (jsonwebtoken::EncodingKey, Value) {
    let secret = p384::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: Option<&p384::FieldBytes>| URL_SAFE_NO_PAD.encode(b.unwrap());
    let der = secret.to_pkcs8_der().unwrap();
    (
        jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
        json!({"kty": "EC", "crv": "P-384", "kid": "k1", "alg": "ES384",
               "x": b64(point.x()), "y": b64(point.y())}),
    )
}

/// Registers a SMART backend client for the clinic and gets it a token: (client id, token).
pub async fn system_client(app: &TestApp, admin: &str) -> (String, String) {
    let (signing, jwk) = client_key();
    let r = app
        .post(
            "/v1/fhir-clients",
            admin,
            json!({"name": "Warehouse", "jwks": {"keys": [jwk]}}),
        )
        .await;
    let body = r.ok(201);
    let (client, token_url) = (id_of(body), body["token_url"].as_str().unwrap().to_string());
    let now = Utc::now().timestamp();
    let claims = json!({"iss": client, "sub": client, "aud": token_url, "exp": now + 240,
                        "jti": Uuid::new_v4().to_string()});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some("k1".into());
    let assertion = jsonwebtoken::encode(&header, &claims, &signing).unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
        ("scope", "system/*.read"),
    ];
    let res = app
        .client
        .post(format!("{}/fhir/R4/auth/token", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    let r = into_resp(res).await;
    let token = r.ok(200)["access_token"].as_str().unwrap().to_string();
    (client, token)
}
