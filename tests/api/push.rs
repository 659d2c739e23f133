//! Web Push reminders against a push service of the test's own (tests/push/receiver.py), which
//! checks each message's VAPID signature and decrypts it with Python's `http_ece` and
//! `cryptography`, and the `check_in.due` webhooks beside them; the reminders job runs on a test
//! clock. Also the subscriptions' rules: who may make and delete them, and what they must be.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aftercare::config::{HttpSettings, Pace, PushSettings, WebhookSettings};
use aftercare::domain::targets::Targets;
use aftercare::domain::web_push::Vapid;
use aftercare::startup::Background;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhooks::{Receiver, eventually, register};

const LOCAL: Targets = Targets {
    allow_private: true,
};

/// A browser's key and auth secret (RFC 8291's example), for subscriptions no message reaches.
const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

/// The Python of the virtualenv `.ci/run` installs `http_ece` and `cryptography` into.
fn python() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".cache/aftercare/push-venv/bin/python")
}

/// The push service, stopped when dropped.
struct PushService {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PushService {
    /// None, with a notice, where the virtualenv is missing, unless `AFTERCARE_PUSH_TEST=required`.
    fn start() -> Option<PushService> {
        if !python().exists() {
            let message = format!(
                "{} is missing: the push test's receiver needs http_ece and cryptography \
                 (.ci/run installs them)",
                python().display()
            );
            assert!(
                std::env::var("AFTERCARE_PUSH_TEST").as_deref() != Ok("required"),
                "{message}"
            );
            eprintln!("skipped: {message}");
            return None;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/push/receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the push receiver");
        let mut port = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut port)
            .expect("the receiver's port");
        Some(PushService {
            child,
            base: format!("http://127.0.0.1:{}", port.trim()),
            client: reqwest::Client::new(),
        })
    }

    /// A new browser subscription: `{id, endpoint, keys}`.
    async fn browser(&self) -> Value {
        let r = self
            .client
            .post(format!("{}/subscriptions", self.base))
            .send()
            .await;
        into_resp(r.expect("the receiver")).await.ok(201).clone()
    }

    /// What the browser got: `[{payload, ttl, vapid_key, problems}]`.
    async fn messages(&self, browser: &Value) -> Vec<Value> {
        let url = format!(
            "{}/subscriptions/{}/messages",
            self.base,
            browser["id"].as_str().unwrap()
        );
        let r = into_resp(self.client.get(url).send().await.expect("the receiver")).await;
        r.ok(200).as_array().unwrap().clone()
    }

    /// From now on the push service answers 410 Gone for the browser.
    async fn gone(&self, browser: &Value) {
        let url = format!(
            "{}/subscriptions/{}/gone",
            self.base,
            browser["id"].as_str().unwrap()
        );
        self.client.post(url).send().await.expect("the receiver");
    }
}

fn push_settings(vapid: &Vapid) -> PushSettings {
    let settings = PushSettings::new(vapid.clone());
    PushSettings {
        pace: Pace {
            retry_base: Duration::from_millis(200),
            retry_cap: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(100),
            ..settings.pace
        },
        targets: LOCAL,
        ..settings
    }
}

/// Delivering webhooks and push messages to this machine; no jobs (the test runs them).
fn background(vapid: &Vapid) -> Background {
    Background {
        job_interval: None,
        webhooks: Some(WebhookSettings {
            pace: Pace {
                retry_base: Duration::from_millis(200),
                retry_cap: Duration::from_secs(1),
                poll_interval: Duration::from_millis(100),
                ..WebhookSettings::default().pace
            },
            targets: LOCAL,
        }),
        push: Some(push_settings(vapid)),
        fhir_exports: None,
    }
}

/// The reminders job at `now`, as the server runs it; how many reminders it sent.
async fn remind(app: &TestApp, now: DateTime<Utc>) -> usize {
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        aftercare::workers::reminders::run_once(&mut conn, now, true).unwrap()
    })
    .await
    .unwrap()
}

/// `hh:mm` in Berlin, `days` after today there.
fn berlin(days: i64, hour: u32, minute: u32) -> DateTime<Utc> {
    let tz = chrono_tz::Europe::Berlin;
    let date = Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(days);
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap();
    tz.from_local_datetime(&date.and_time(time))
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

async fn subscribe(app: &TestApp, token: &str, browser: &Value, language: Option<&str>) -> Value {
    let mut body =
        json!({"endpoint": browser["endpoint"], "expirationTime": null, "keys": browser["keys"]});
    if let Some(l) = language {
        body["language"] = json!(l);
    }
    app.post("/v1/push-subscriptions", token, body)
        .await
        .ok(201)
        .clone()
}

fn statuses(app: &TestApp) -> Vec<String> {
    use aftercare::db::schema::push_deliveries::dsl::*;
    push_deliveries
        .select(status)
        .order(created_at)
        .load(&mut app.db())
        .unwrap()
}

#[tokio::test]
async fn a_scheduled_day_without_a_check_in_is_reminded_once_by_push_and_webhook() {
    let Some(service) = PushService::start() else {
        return;
    };
    let vapid = Vapid::generate("mailto:ops@clinic.example");
    let app = spawn_app_with(HttpSettings::default(), background(&vapid)).await;
    // Two patients treated two days ago (day 2, scheduled); the second checks in today.
    let s = app.scenario("Lumen").await;
    let (p1, p2) = (&s.patients[0], &s.patients[1]);
    let hooks = Receiver::start().await;
    let (_, secret) = register(&app, &s.clinic.admin, &hooks.url(), &["check_in.due"]).await;

    let config = app.get("/v1/push/config", &p1.token).await;
    assert_eq!(config.ok(200)["application_server_key"], vapid.public_key());
    let (phone1, phone2) = (service.browser().await, service.browser().await);
    let sub1 = subscribe(&app, &p1.token, &phone1, Some("de")).await;
    subscribe(&app, &p2.token, &phone2, None).await;
    let today = CheckIn::new(&p2.treatment, Utc::now(), json!({"redness": 1}));
    app.check_in(&p2.token, &today).await.ok(201);

    assert_eq!(remind(&app, berlin(0, 17, 59)).await, 0, "before 18:00");
    assert_eq!(
        remind(&app, berlin(0, 18, 0)).await,
        1,
        "at 18:00, the first patient only"
    );
    let got = eventually("the push message", || async {
        Some(service.messages(&phone1).await).filter(|m| !m.is_empty())
    })
    .await;
    assert_eq!(got[0]["problems"], json!([]), "{got:?}");
    assert_eq!(got[0]["vapid_key"], vapid.public_key());
    assert_eq!(
        got[0]["payload"],
        json!({"type": "check_in.due", "title": "Zeit für Ihren Check-in",
               "body": "Sie haben heute noch nicht eingecheckt. Es dauert eine Minute: Wie geht es Ihrer Haut?",
               "url": "/app"})
    );
    // Kept by the push service until 6 hours after the reminder (on the test's clock). Both
    // figures are whole seconds, the TTL's taken when the message was sent, a moment before this
    // one: it may be a second more.
    let ttl = got[0]["ttl"].as_i64().unwrap();
    let until = (berlin(0, 18, 0) + chrono::Duration::hours(6) - Utc::now()).num_seconds();
    assert!(
        ttl > 0 && ttl <= until + 1 && ttl > until - 60,
        "TTL {ttl}, {until}"
    );

    // Again, and from another instance (a restart): nothing more.
    assert_eq!(remind(&app, berlin(0, 18, 30)).await, 0);
    let restarted = app.another_instance(background(&vapid));
    assert_eq!(remind(&restarted, berlin(0, 21, 0)).await, 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(service.messages(&phone1).await.len(), 1);
    assert!(
        service.messages(&phone2).await.is_empty(),
        "the second patient checked in"
    );
    assert_eq!(statuses(&app), ["sent"]);
    let due = eventually("the check_in.due webhook", || async {
        Some(hooks.received()).filter(|r| !r.is_empty())
    })
    .await;
    assert_eq!(due.len(), 1);
    assert!(due[0].signed_with(&secret));
    let event = due[0].json();
    assert_eq!(event["type"], "check_in.due");
    assert_eq!(event["data"]["patient_id"], json!(p1.id));
    assert_eq!(event["data"]["treatment_id"], json!(p1.treatment));
    assert_eq!(event["data"]["day"], 2);
    assert_eq!(
        event["data"]["date"],
        json!(
            berlin(0, 18, 0)
                .with_timezone(&chrono_tz::Europe::Berlin)
                .date_naive()
        )
    );

    // Tomorrow (day 3) neither has checked in; the first phone's subscription has expired.
    service.gone(&phone1).await;
    assert_eq!(remind(&app, berlin(1, 18, 0)).await, 2);
    let got = eventually("the second patient's reminder", || async {
        Some(service.messages(&phone2).await).filter(|m| !m.is_empty())
    })
    .await;
    assert_eq!(got[0]["problems"], json!([]), "{got:?}");
    assert_eq!(got[0]["payload"]["title"], "Time for your check-in");
    let path = format!("/v1/push-subscriptions/{}", sub1["id"].as_str().unwrap());
    eventually("the expired subscription to be dropped", || async {
        let r = app
            .request(reqwest::Method::DELETE, &path, Some(&p1.token), None)
            .await;
        (r.status == 404).then_some(())
    })
    .await;
    eventually("a webhook per reminder", || async {
        Some(hooks.received()).filter(|r| r.len() >= 3)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut days: Vec<(String, i64)> = hooks
        .received()
        .iter()
        .map(|r| r.json()["data"].clone())
        .map(|d| {
            (
                d["patient_id"].as_str().unwrap().to_string(),
                d["day"].as_i64().unwrap(),
            )
        })
        .collect();
    days.sort();
    let mut expected = vec![(p1.id.clone(), 2), (p1.id.clone(), 3), (p2.id.clone(), 3)];
    expected.sort();
    assert_eq!(days, expected);
}

#[tokio::test]
async fn subscriptions_are_the_patients_own_and_checked() {
    let app = spawn_app().await;
    let a = app.scenario("Lumen").await;
    let b = app.scenario("Other").await;
    let (p1, p2) = (&a.patients[0], &a.patients[1]);
    app.request(reqwest::Method::GET, "/v1/push/config", None, None)
        .await
        .problem(404);

    let body = json!({"endpoint": "https://push.example.net/wpush/v2/gAAAA-b_c", "expirationTime": null,
                      "keys": {"p256dh": P256DH, "auth": AUTH}});
    for token in [&a.clinic.admin, &a.clinician] {
        app.post("/v1/push-subscriptions", token, body.clone())
            .await
            .problem(403);
    }
    app.request(
        reqwest::Method::POST,
        "/v1/push-subscriptions",
        None,
        Some(&body),
    )
    .await
    .problem(401);
    let r = app
        .post("/v1/push-subscriptions", &p1.token, body.clone())
        .await;
    let location = r.header("location").unwrap().to_string();
    let sub = r.ok(201).clone();
    assert_eq!(sub["endpoint"], body["endpoint"]);
    assert_eq!(
        location,
        format!("/v1/push-subscriptions/{}", sub["id"].as_str().unwrap())
    );
    // The same endpoint again is the same subscription.
    let again = app
        .post("/v1/push-subscriptions", &p1.token, body.clone())
        .await;
    assert_eq!(again.ok(200), &sub);

    // Another patient, of this clinic or another, and staff can't delete it.
    app.request(reqwest::Method::DELETE, &location, Some(&p2.token), None)
        .await
        .problem(404);
    app.request(
        reqwest::Method::DELETE,
        &location,
        Some(&b.patients[0].token),
        None,
    )
    .await
    .problem(404);
    app.request(reqwest::Method::DELETE, &location, Some(&a.clinician), None)
        .await
        .problem(403);
    app.request(reqwest::Method::DELETE, &location, None, None)
        .await
        .problem(401);
    let r = app
        .request(reqwest::Method::DELETE, &location, Some(&p1.token), None)
        .await;
    assert_eq!(r.status, 204);
    app.request(reqwest::Method::DELETE, &location, Some(&p1.token), None)
        .await
        .problem(404);
    app.request(
        reqwest::Method::DELETE,
        "/v1/push-subscriptions/nope",
        Some(&p1.token),
        None,
    )
    .await
    .problem(400);

    // Signing out of the phone drops what it subscribed.
    let r = app
        .post("/v1/push-subscriptions", &p1.token, body.clone())
        .await;
    let path = format!(
        "/v1/push-subscriptions/{}",
        r.ok(201)["id"].as_str().unwrap()
    );
    app.post(
        "/v1/auth/logout",
        &p1.token,
        json!({"refresh_token": p1.refresh}),
    )
    .await
    .ok(204);
    let (token, _) = app.enroll(&a.clinician, &p1.id).await;
    app.request(reqwest::Method::DELETE, &path, Some(&token), None)
        .await
        .problem(404);
}

#[tokio::test]
async fn bad_subscriptions_are_refused() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let token = &s.patients[0].token;
    let ok = json!({"endpoint": "https://push.example.net/wpush/v2/abc", "keys": {"p256dh": P256DH, "auth": AUTH}});
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (
            with("endpoint", json!("http://push.example.net/abc")),
            "endpoint",
        ),
        (with("endpoint", json!("https://127.0.0.1/abc")), "endpoint"),
        (with("endpoint", json!("https://localhost/abc")), "endpoint"),
        (with("endpoint", json!("not a url")), "endpoint"),
        (
            with("keys", json!({"p256dh": &P256DH[..80], "auth": AUTH})),
            "keys.p256dh",
        ),
        (
            with("keys", json!({"p256dh": P256DH, "auth": "AAAA"})),
            "keys.auth",
        ),
        (
            with(
                "keys",
                json!({"p256dh": P256DH.replace('B', "A"), "auth": AUTH}),
            ),
            "keys.p256dh",
        ),
        (with("language", json!("fr")), "language"),
    ] {
        let r = app
            .post("/v1/push-subscriptions", token, body.clone())
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    for body in [
        with("extra", json!(1)),
        with("keys", json!({"p256dh": P256DH})),
        json!({"endpoint": 5}),
    ] {
        let r = app
            .post("/v1/push-subscriptions", token, body.clone())
            .await;
        assert!([400, 422].contains(&r.status), "{body}: {r:?}");
        r.problem(r.status);
    }
    let stored: i64 = aftercare::db::schema::push_subscriptions::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(stored, 0);
}
