//! Webhooks against a receiver of the test's own on 127.0.0.1, which can fail, go down, or hang.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::config::{HttpSettings, Pace, WebhookSettings};
use aftercare::domain::targets::Targets;
use aftercare::startup::Background;
use chrono::Utc;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::*;

const ALL_EVENTS: [&str; 4] = [
    "alert.raised",
    "alert.resolved",
    "check_in.created",
    "adverse_event.recorded",
];

/// The app with the delivery worker, retrying fast, allowed to deliver to the test's receiver on
/// this machine.
async fn spawn_delivering_app() -> TestApp {
    spawn_delivering_app_to(Targets {
        allow_private: true,
    })
    .await
}

/// The app with the delivery worker, retrying fast, sending where `targets` allows.
pub async fn spawn_delivering_app_to(targets: Targets) -> TestApp {
    spawn_app_with(
        HttpSettings::default(),
        Background {
            job_interval: None,
            push: None,
            webhooks: Some(WebhookSettings {
                pace: Pace {
                    retry_base: Duration::from_millis(200),
                    retry_cap: Duration::from_secs(1),
                    timeout: Duration::from_secs(2),
                    poll_interval: Duration::from_millis(100),
                    concurrency: 4,
                },
                targets,
            }),
            ..Background::default()
        },
    )
    .await
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn event_id(&self) -> String {
        self.header("Aftercare-Event-Id").to_string()
    }

    /// Verifies the signature as a receiver would: over the raw body, with the secret.
    pub(crate) fn signed_with(&self, secret: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(self.header("Aftercare-Timestamp").as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        self.header("Aftercare-Signature") == expected
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Answer 500 to this many requests, then 200.
    failures_left: usize,
    /// Hold each request open, unanswered, while true.
    hang: bool,
    /// Requests being held open right now.
    holding: usize,
}

/// A webhook receiver on 127.0.0.1 that records every request.
pub(crate) struct Receiver {
    port: u16,
    state: Arc<Mutex<ReceiverState>>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            port: listener.local_addr().unwrap().port(),
            state: Arc::default(),
            accepting: Mutex::new(None),
        };
        receiver.accept(listener);
        receiver
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/aftercare", self.port)
    }

    fn accept(&self, listener: TcpListener) {
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, state.clone()));
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    /// Closes the port: connections are refused until `up`.
    async fn down(&self) {
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
        // The listener is dropped once the aborted task is.
        for _ in 0..50 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the receiver's port stayed open");
    }

    async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.accept(listener);
    }

    fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().failures_left = n;
    }

    fn hang(&self, hang: bool) {
        self.state.lock().unwrap().hang = hang;
    }

    fn holding(&self) -> usize {
        self.state.lock().unwrap().holding
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// What a deduplicating receiver keeps: the first request of each event id.
    fn events(&self) -> HashMap<String, Received> {
        let mut seen = HashMap::new();
        for r in self.received() {
            seen.entry(r.event_id()).or_insert(r);
        }
        seen
    }
}

/// Reads one HTTP/1.1 request, records it, answers as told and closes.
async fn answer(mut stream: TcpStream, state: Arc<Mutex<ReceiverState>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf[head_end..head_end + length].to_vec();
    let hang = {
        let mut s = state.lock().unwrap();
        s.received.push(Received { headers, body });
        if s.hang {
            s.holding += 1;
        }
        s.hang
    };
    if hang {
        while state.lock().unwrap().hang {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        state.lock().unwrap().holding -= 1;
    }
    let status = {
        let mut s = state.lock().unwrap();
        if s.failures_left > 0 {
            s.failures_left -= 1;
            "500 Internal Server Error"
        } else {
            "200 OK"
        }
    };
    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Polls `check` every 100 ms until it gives a value; fails after 30 s.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 30 s for {what}");
}

/// Registers a webhook; its id and secret.
pub(crate) async fn register(
    app: &TestApp,
    admin: &str,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let r = app
        .post("/v1/webhooks", admin, json!({"url": url, "events": events}))
        .await;
    let body = r.ok(201);
    (id_of(body), body["secret"].as_str().unwrap().to_string())
}

pub(crate) async fn deliveries(app: &TestApp, admin: &str, webhook: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/webhooks/{webhook}/deliveries?limit=200"),
            admin,
        )
        .await;
    r.ok(200)["items"].as_array().unwrap().clone()
}

/// The deliveries, once every one of them is delivered.
async fn all_delivered(app: &TestApp, admin: &str, webhook: &str, n: usize) -> Vec<Value> {
    eventually(&format!("{n} deliveries delivered"), || async {
        let items = deliveries(app, admin, webhook).await;
        (items.len() == n && items.iter().all(|d| d["status"] == "delivered")).then_some(items)
    })
    .await
}

/// A check-in of the patient's now, with words of their own that must not leave the clinic.
fn private_check_in(p: &Patient, scores: Value) -> CheckIn {
    CheckIn::new(&p.treatment, Utc::now(), scores).note("private words of the patient")
}

#[tokio::test]
async fn admins_register_list_change_and_deactivate_webhooks() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let admin = &s.clinic.admin;

    let r = app
        .post(
            "/v1/webhooks",
            admin,
            json!({"url": "https://hooks.clinic.example/a", "events": ["alert.raised"]}),
        )
        .await;
    let location = r.header("location").unwrap().to_string();
    let created = r.ok(201).clone();
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64, "a generated secret is 32 random bytes");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(created["events"], json!(["alert.raised"]));
    assert_eq!(created["active"], true);
    let id = id_of(&created);
    let fetched = app.get(&location, admin).await;
    assert_eq!(fetched.ok(200)["id"], id.as_str());
    assert!(
        fetched.body.get("secret").is_none(),
        "the secret is shown once"
    );

    let given = "a-secret-of-our-own-123";
    let r = app
        .post(
            "/v1/webhooks",
            admin,
            json!({"url": "https://93.184.215.14:8080/in", "events": ALL_EVENTS, "secret": given}),
        )
        .await;
    assert_eq!(r.ok(201)["secret"], given);
    let second = id_of(&r.body);

    // Validation names each wrong field.
    let r = app
        .post(
            "/v1/webhooks",
            admin,
            json!({"url": "ftp://x.example/", "events": [], "secret": "short"}),
        )
        .await;
    r.problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["events", "secret", "url"]);
    for bad in [
        json!({"url": "not a url", "events": ["alert.raised"]}),
        json!({"url": "https://x.example/", "events": ["alert.exploded"]}),
        json!({"url": "https://x.example/", "events": ["alert.raised"], "extra": 1}),
        json!({"url": "https://user:pw@x.example/", "events": ["alert.raised"]}),
    ] {
        app.post("/v1/webhooks", admin, bad).await.problem(422);
    }

    // A page at a time, oldest first; secrets never listed.
    let page = app.get("/v1/webhooks?limit=1", admin).await;
    let page = page.ok(200).clone();
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert!(page["items"][0].get("secret").is_none());
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/v1/webhooks?limit=1&cursor={cursor}"), admin)
        .await;
    assert_eq!(next.ok(200)["items"][0]["id"], second.as_str());
    assert_eq!(next.body["next_cursor"], Value::Null);

    let r = app
        .patch(
            &location,
            admin,
            json!({"events": ["alert.raised", "alert.resolved"], "active": false}),
        )
        .await;
    assert_eq!(r.ok(200)["active"], false);
    assert_eq!(r.body["events"], json!(["alert.raised", "alert.resolved"]));
    app.patch(&location, admin, json!({"url": "mailto:x@y.example"}))
        .await
        .problem(422);
    assert_eq!(
        app.patch(&location, admin, json!({})).await.ok(200)["active"],
        false
    );

    // Admins only; another clinic's webhook does not exist.
    for token in [&s.clinician, &s.patients[0].token] {
        app.get("/v1/webhooks", token).await.problem(403);
        app.get(&location, token).await.problem(403);
        app.post(
            "/v1/webhooks",
            token,
            json!({"url": "https://x.example/", "events": ["alert.raised"]}),
        )
        .await
        .problem(403);
    }
    let stranger = &other.clinic.admin;
    app.get(&location, stranger).await.problem(404);
    app.patch(&location, stranger, json!({"active": true}))
        .await
        .problem(404);
    app.get(&format!("{location}/deliveries"), stranger)
        .await
        .problem(404);
    assert_eq!(
        app.get("/v1/webhooks", stranger).await.ok(200)["items"],
        json!([])
    );
    app.get("/v1/webhooks/not-a-uuid", admin).await.problem(400);
    app.get(&format!("/v1/webhooks/{}", Uuid::new_v4()), admin)
        .await
        .problem(404);

    // An event type named twice counts once.
    let twice = app
        .post(
            "/v1/webhooks",
            admin,
            json!({"url": "https://x.example/", "events": ["alert.raised", "alert.raised"]}),
        )
        .await;
    assert_eq!(twice.ok(201)["events"], json!(["alert.raised"]));
}

#[tokio::test]
async fn a_check_in_that_raises_an_urgent_alert_is_delivered_signed() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (hook, secret) = register(&app, admin, &receiver.url(), &ALL_EVENTS).await;
    // Another clinic's webhook hears nothing of this clinic.
    let other = app.scenario("Other").await;
    let (_, _) = register(&app, &other.clinic.admin, &receiver.url(), &ALL_EVENTS).await;

    let p = &s.patients[0];
    let r = app
        .check_in(&p.token, &private_check_in(p, json!({"infection": 1})))
        .await;
    let receipt = r.ok(201).clone();
    let alert_id = receipt["alerts"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(receipt["alerts"][0]["level"], "urgent");

    let got = eventually("two deliveries", || async {
        let got = receiver.received();
        (got.len() >= 2).then_some(got)
    })
    .await;
    assert_eq!(got.len(), 2, "one check_in.created and one alert.raised");
    let mut by_type: HashMap<String, Received> = HashMap::new();
    for r in &got {
        assert!(r.signed_with(&secret), "the signature verifies");
        assert!(!r.signed_with("another-secret-altogether"));
        let mut tampered = r.clone();
        tampered.body.push(b' ');
        assert!(!tampered.signed_with(&secret), "a changed body does not");
        let body = r.json();
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(body["id"], r.event_id());
        assert_eq!(body["type"], r.header("Aftercare-Event-Type"));
        assert_eq!(body["clinic_id"], s.clinic.id.to_string());
        let ts: i64 = r.header("Aftercare-Timestamp").parse().unwrap();
        assert!((Utc::now().timestamp() - ts).abs() < 300);
        Uuid::parse_str(r.header("Aftercare-Delivery-Id")).unwrap();
        assert!(
            !String::from_utf8_lossy(&r.body).contains("private words"),
            "no free text leaves the clinic"
        );
        by_type.insert(body["type"].as_str().unwrap().to_string(), r.clone());
    }
    assert_ne!(got[0].event_id(), got[1].event_id());
    let created = by_type["check_in.created"].json();
    assert_eq!(
        created["data"],
        json!({"id": receipt["id"], "patient_id": p.id, "treatment_id": p.treatment,
               "day": receipt["day"], "recorded_at": created["data"]["recorded_at"]})
    );
    let raised = by_type["alert.raised"].json();
    assert_eq!(
        raised["data"],
        json!({"id": alert_id, "rule": "infection_signs", "level": "urgent", "patient_id": p.id,
               "treatment_id": p.treatment, "day": receipt["day"]})
    );

    // The deliveries are listed, each with its one attempt.
    let items = all_delivered(&app, admin, &hook, 2).await;
    for d in &items {
        assert_eq!(d["last_status"], 200);
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
        assert_eq!(d["attempts"][0]["http_status"], 200);
        assert_eq!(d["next_attempt_at"], Value::Null);
        let sent = got.iter().find(|r| r.event_id() == d["event_id"]).unwrap();
        assert_eq!(d["id"], sent.header("Aftercare-Delivery-Id"));
        assert_eq!(d["payload"], sent.json());
        let one = app
            .get(
                &format!(
                    "/v1/webhooks/{hook}/deliveries/{}",
                    d["id"].as_str().unwrap()
                ),
                admin,
            )
            .await;
        assert_eq!(one.ok(200)["id"], d["id"]);
    }
}

#[tokio::test]
async fn each_event_reaches_the_webhooks_that_want_it() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let complications = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (all, _) = register(&app, admin, &receiver.url(), &ALL_EVENTS).await;
    let (some, _) = register(
        &app,
        admin,
        &complications.url(),
        &["adverse_event.recorded"],
    )
    .await;
    let p = &s.patients[0];
    let post = async |scores: Value| app.check_in(&p.token, &private_check_in(p, scores)).await;
    let alert = post(json!({"fever": 1})).await.ok(201)["alerts"][0]["id"].clone();
    // Evidence for the alert already open raises nothing new.
    let again = post(json!({"fever": 1})).await;
    assert_eq!(again.ok(201)["alerts"][0]["id"], alert);
    app.post(
        &format!("/v1/alerts/{}/resolve", alert.as_str().unwrap()),
        &s.clinician,
        json!({"note": "Called; paracetamol."}),
    )
    .await
    .ok(200);
    let onset = Utc::now().format("%Y-%m-%d").to_string();
    let recorded = app
        .post(
            &format!("/v1/treatments/{}/adverse-events", p.treatment),
            &s.clinician,
            json!({"term": "Hyperpigmentation", "grade": 2, "serious": false, "onset_date": onset,
                   "outcome": "ongoing", "notes": "private words of the clinician"}),
        )
        .await;
    let recorded = recorded.ok(201).clone();
    // The silence job raises alerts too: the other patient never checked in. Tomorrow, they will
    // have missed days 0-2.
    let db_url = app.db_url.clone();
    let raised = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&db_url).unwrap();
        aftercare::workers::silence::run_once(
            &mut conn,
            &aftercare::read_model::Store::new(),
            Utc::now() + chrono::Duration::days(1),
        )
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        raised, 1,
        "the patient who never checked in missed days 0-2"
    );

    let items = all_delivered(&app, admin, &all, 6).await;
    let mut types: Vec<&str> = items
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "adverse_event.recorded",
            "alert.raised",
            "alert.raised",
            "alert.resolved",
            "check_in.created",
            "check_in.created"
        ]
    );
    let resolved = items
        .iter()
        .find(|d| d["event_type"] == "alert.resolved")
        .unwrap();
    assert_eq!(resolved["payload"]["data"]["id"], alert);
    let missed = items
        .iter()
        .find(|d| {
            d["event_type"] == "alert.raised"
                && d["payload"]["data"]["rule"] == "missed_check_ins"
                && d["payload"]["data"]["patient_id"] == s.patients[1].id.as_str()
        })
        .expect("the job's alert");
    assert_eq!(missed["payload"]["data"]["level"], "normal");

    let only = all_delivered(&app, admin, &some, 1).await;
    assert_eq!(only[0]["event_type"], "adverse_event.recorded");
    assert_eq!(
        only[0]["payload"]["data"],
        json!({"id": recorded["id"], "patient_id": p.id, "treatment_id": p.treatment,
               "grade": 2, "serious": false})
    );
    assert_eq!(complications.received().len(), 1);
    assert!(!String::from_utf8_lossy(&complications.received()[0].body).contains("private"));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_answers() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (hook, secret) = register(&app, admin, &receiver.url(), &["check_in.created"]).await;
    receiver.fail_next(3);
    let p = &s.patients[0];
    app.check_in(&p.token, &private_check_in(p, json!({"redness": 1})))
        .await
        .ok(201);

    let items = all_delivered(&app, admin, &hook, 1).await;
    let statuses: Vec<&Value> = items[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["http_status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(500), &json!(500), &json!(200)]
    );
    assert_eq!(items[0]["last_status"], 200);
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    for r in &got {
        assert_eq!(
            r.event_id(),
            got[0].event_id(),
            "one event id for every retry"
        );
        assert_eq!(
            r.header("Aftercare-Delivery-Id"),
            got[0].header("Aftercare-Delivery-Id")
        );
        assert!(r.signed_with(&secret), "each retry is signed afresh");
    }
}

#[tokio::test]
async fn nothing_is_lost_while_the_receiver_is_down() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (hook, _) = register(&app, admin, &receiver.url(), &ALL_EVENTS).await;
    receiver.down().await;

    let mut check_ins = 0;
    let mut alerts = HashSet::new();
    for p in &s.patients {
        for scores in [
            json!({"redness": 1}),
            json!({"blisters": 1}),
            json!({"blisters": 1}),
        ] {
            let r = app.check_in(&p.token, &private_check_in(p, scores)).await;
            check_ins += 1;
            for a in r.ok(201)["alerts"].as_array().unwrap() {
                alerts.insert(a["id"].as_str().unwrap().to_string());
            }
        }
    }
    // One event per check-in and per new alert; evidence for an open alert is none.
    assert_eq!(alerts.len(), 2);
    let expected = check_ins + alerts.len();
    // Every delivery fails for a while, and each failure is logged with its cause.
    eventually("failed attempts", || async {
        let items = deliveries(&app, admin, &hook).await;
        (items.len() == expected
            && items.iter().all(|d| {
                d["status"] == "pending"
                    && d["attempts"].as_array().unwrap().len() >= 2
                    && d["attempts"][0]["http_status"].is_null()
                    && d["attempts"][0]["error"] == "no HTTP answer"
            }))
        .then_some(())
    })
    .await;
    assert!(receiver.received().is_empty());

    receiver.up().await;
    let items = all_delivered(&app, admin, &hook, expected).await;
    let sent: HashSet<String> = items
        .iter()
        .map(|d| d["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), expected, "one event id per event");
    let seen: HashSet<String> = receiver.events().into_keys().collect();
    assert_eq!(seen, sent, "every event arrived at least once");
    assert!(receiver.received().len() >= expected);
}

#[tokio::test]
async fn a_failed_delivery_is_redelivered_with_the_same_event_id() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let admin = &s.clinic.admin;
    let (hook, _) = register(&app, admin, &receiver.url(), &["check_in.created"]).await;
    receiver.down().await;
    let p = &s.patients[0];
    app.check_in(&p.token, &private_check_in(p, json!({"redness": 1})))
        .await
        .ok(201);
    let first = eventually("a failed attempt", || async {
        let items = deliveries(&app, admin, &hook).await;
        items
            .first()
            .filter(|d| !d["attempts"].as_array().unwrap().is_empty())
            .cloned()
    })
    .await;
    let delivery = first["id"].as_str().unwrap().to_string();
    // Its 24 hours are up: the next failure is the last.
    diesel::sql_query("UPDATE webhook_deliveries SET deadline = now()")
        .execute(&mut app.db())
        .unwrap();
    let path = format!("/v1/webhooks/{hook}/deliveries/{delivery}");
    let failed = eventually("the delivery to fail", || async {
        let d = app.get(&path, admin).await.ok(200).clone();
        (d["status"] == "failed").then_some(d)
    })
    .await;
    assert!(failed["last_error"].is_string());

    receiver.up().await;
    let redeliver = format!("{path}/redeliver");
    app.post(&redeliver, &other.clinic.admin, json!(null))
        .await
        .problem(404);
    app.post(&redeliver, &s.clinician, json!(null))
        .await
        .problem(403);
    app.post(
        &format!(
            "/v1/webhooks/{hook}/deliveries/{}/redeliver",
            Uuid::new_v4()
        ),
        admin,
        json!(null),
    )
    .await
    .problem(404);
    let r = app.post(&redeliver, admin, json!(null)).await;
    let queued = r.ok(202);
    assert_eq!(queued["status"], "pending");
    assert!(queued["deadline"].as_str().unwrap() > failed["deadline"].as_str().unwrap());
    let delivered = all_delivered(&app, admin, &hook, 1).await;
    assert_eq!(delivered[0]["id"], delivery.as_str());
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_id(), first["event_id"].as_str().unwrap());

    // Delivered, it can be sent again all the same: the receiver sees the event id twice.
    app.post(&redeliver, admin, json!(null)).await.ok(202);
    let got = eventually("the second copy", || async {
        let got = receiver.received();
        (got.len() == 2).then_some(got)
    })
    .await;
    assert_eq!(got[0].event_id(), got[1].event_id());
    assert_eq!(receiver.events().len(), 1, "a receiver dedupes it away");

    // Deactivated, a webhook gets nothing, and nothing can be redelivered to it.
    app.patch(
        &format!("/v1/webhooks/{hook}"),
        admin,
        json!({"active": false}),
    )
    .await
    .ok(200);
    app.post(&redeliver, admin, json!(null)).await.problem(409);
    app.check_in(&p.token, &private_check_in(p, json!({"redness": 0})))
        .await
        .ok(201);
    assert_eq!(deliveries(&app, admin, &hook).await.len(), 1);
}

#[tokio::test]
async fn a_receiver_that_hangs_never_holds_up_a_check_in() {
    let app = spawn_delivering_app().await;
    let receiver = Receiver::start().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (hook, _) = register(&app, admin, &receiver.url(), &["check_in.created"]).await;
    receiver.hang(true);
    let p = &s.patients[0];
    app.check_in(&p.token, &private_check_in(p, json!({"redness": 2})))
        .await
        .ok(201);
    eventually("the receiver to hold a delivery", || async {
        (receiver.holding() > 0).then_some(())
    })
    .await;
    // While the receiver holds a delivery open, check-ins are answered as ever.
    for n in 0..3 {
        let r = app
            .check_in(&p.token, &private_check_in(p, json!({"redness": n})))
            .await;
        r.ok(201);
    }
    receiver.hang(false);
    all_delivered(&app, admin, &hook, 4).await;
    assert_eq!(receiver.events().len(), 4);
}

#[tokio::test]
async fn webhooks_cannot_be_pointed_at_the_clinics_own_network() {
    let app = spawn_delivering_app_to(Targets::default()).await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    for url in [
        "http://127.0.0.1:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5:8080/in",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0:8080/",
        "http://localhost:8080/",
        "http://db.localhost/",
    ] {
        let r = app
            .post(
                "/v1/webhooks",
                admin,
                json!({"url": url, "events": ALL_EVENTS}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["url"], "{url}");
    }
    let (hook, _) = register(&app, admin, "https://hooks.clinic.example/in", &ALL_EVENTS).await;
    let r = app
        .patch(
            &format!("/v1/webhooks/{hook}"),
            admin,
            json!({"url": "http://127.0.0.1:9/"}),
        )
        .await;
    r.problem(422);

    // A URL stored before this rule (or while private targets were allowed) is refused when
    // sent, as is a name that resolves to this machine: nothing reaches the receiver, and the
    // listing says no more than that there was no answer.
    let receiver = Receiver::start().await;
    let port = receiver.port;
    for url in [receiver.url(), format!("http://localhost:{port}/in")] {
        diesel::sql_query("UPDATE webhooks SET url = $1 WHERE id = $2")
            .bind::<diesel::sql_types::Text, _>(&url)
            .bind::<diesel::sql_types::Uuid, _>(hook.parse::<Uuid>().unwrap())
            .execute(&mut app.db())
            .unwrap();
        let p = &s.patients[0];
        app.check_in(&p.token, &private_check_in(p, json!({"redness": 1})))
            .await
            .ok(201);
    }
    eventually("failed attempts", || async {
        let items = deliveries(&app, admin, &hook).await;
        (items.len() == 2
            && items.iter().all(|d| {
                let attempts = d["attempts"].as_array().unwrap();
                !attempts.is_empty()
                    && attempts
                        .iter()
                        .all(|a| a["http_status"].is_null() && a["error"] == "no HTTP answer")
            }))
        .then_some(())
    })
    .await;
    assert!(receiver.received().is_empty());
}
