//! Webhooks that keep what they carry to themselves: https only (plain http for local testing),
//! never through a proxy that would resolve names past the address checks, and never to the IPv6
//! forms that carry a private IPv4 address. And an audit trail that names the patient a filtered
//! read was about even when it found nothing, and a system client as itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aftercare::domain::targets::Targets;
use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::webhooks::{Receiver, deliveries, eventually, register, spawn_delivering_app_to};

const EVENTS: [&str; 1] = ["check_in.created"];

const LOCAL_TESTING: Targets = Targets {
    allow_private: true,
};

/// Points the webhook somewhere registration would refuse, as a URL stored before a rule was.
fn store_url(app: &TestApp, hook: &str, url: &str) {
    diesel::sql_query("UPDATE webhooks SET url = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Text, _>(url)
        .bind::<diesel::sql_types::Uuid, _>(hook.parse::<Uuid>().unwrap())
        .execute(&mut app.db())
        .unwrap();
}

async fn check_in_now(app: &TestApp, p: &Patient) {
    app.check_in(
        &p.token,
        &CheckIn::new(&p.treatment, Utc::now(), json!({"redness": 1})),
    )
    .await
    .ok(201);
}

#[tokio::test]
async fn plain_http_is_refused_unless_testing_locally() {
    // The attack: patients' ids, alert rules and complication grades in clear text.
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    for url in [
        "http://hooks.clinic.example/aftercare",
        "http://93.184.215.14:8080/in",
        "HTTP://hooks.clinic.example/in",
    ] {
        let r = app
            .post("/v1/webhooks", admin, json!({"url": url, "events": EVENTS}))
            .await;
        let body = r.problem(422);
        assert_eq!(r.error_fields(), ["url"], "{url}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("https"),
            "{body}"
        );
    }
    let (hook, _) = register(&app, admin, "https://hooks.clinic.example/in", &EVENTS).await;
    let r = app
        .patch(
            &format!("/v1/webhooks/{hook}"),
            admin,
            json!({"url": "http://hooks.clinic.example/in"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), ["url"]);
    let shown = app.get(&format!("/v1/webhooks/{hook}"), admin).await;
    assert_eq!(shown.ok(200)["url"], "https://hooks.clinic.example/in");

    // With the local-testing switch, a receiver on this machine over http is fine.
    let local = spawn_delivering_app_to(LOCAL_TESTING).await;
    let s = local.scenario("Lumen").await;
    let receiver = Receiver::start().await;
    register(&local, &s.clinic.admin, &receiver.url(), &EVENTS).await;
    check_in_now(&local, &s.patients[0]).await;
    eventually("the delivery over http", || async {
        (receiver.received().len() == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_http_url_stored_before_the_rule_is_never_sent() {
    let app = spawn_delivering_app_to(Targets::default()).await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let (hook, _) = register(&app, admin, "https://hooks.clinic.example/in", &EVENTS).await;
    // A public address over plain http: refused for its scheme alone.
    store_url(&app, &hook, "http://93.184.215.14:9/in");
    check_in_now(&app, &s.patients[0]).await;
    let items = eventually("a failed attempt", || async {
        let items = deliveries(&app, admin, &hook).await;
        (items.len() == 1 && !items[0]["attempts"].as_array().unwrap().is_empty()).then_some(items)
    })
    .await;
    let attempt = &items[0]["attempts"][0];
    assert!(attempt["http_status"].is_null());
    assert_eq!(attempt["error"], "no HTTP answer");
}

/// A TCP listener standing in for a proxy: it counts the connections it gets and closes them.
async fn proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, seen)
}

/// `aftercare serve` killed when the test ends, however it ends.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn deliveries_ignore_proxy_variables() {
    // The in-process app takes the check-in; `aftercare serve`, started with every proxy variable
    // pointing at a listener of the test's, delivers it. A client that honoured the variables
    // would hand the receiver's name to the proxy to resolve, past the address checks.
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let receiver = Receiver::start().await;
    let (hook, secret) = register(&app, admin, "https://hooks.clinic.example/in", &EVENTS).await;
    store_url(&app, &hook, &receiver.url());
    let (proxy_port, proxied) = proxy().await;
    let proxy_url = format!("http://127.0.0.1:{proxy_port}");
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"));
    serve
        .arg("serve")
        .env("DATABASE_URL", &app.db_url)
        .env("AFTERCARE_ADDR", "127.0.0.1:0")
        .env("AFTERCARE_PUBLIC_URL", "https://aftercare.clinic.example")
        .env(
            "AFTERCARE_JWT_SECRET",
            format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        )
        .env("AFTERCARE_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("AFTERCARE_WEBHOOK_RETRY_BASE", "1")
        // Its warnings go to the test's output, shown if the test fails.
        .env("RUST_LOG", "warn")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(std::process::Stdio::null());
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        serve.env(var, &proxy_url);
    }
    let _served = Served(serve.spawn().expect("start aftercare serve"));

    check_in_now(&app, &s.patients[0]).await;
    let got = eventually("the delivery, straight to the receiver", || async {
        receiver.received().into_iter().next()
    })
    .await;
    assert!(got.signed_with(&secret));
    assert_eq!(got.json()["type"], "check_in.created");
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "nothing went to the proxy"
    );
}

/// The IPv6 forms that carry an IPv4 address, each with 127.0.0.1 in it.
const LOOPBACK_IN_IPV6: [&str; 5] = [
    // Local-use NAT64 (RFC 8215): refused whatever it carries.
    "64:ff9b:1::7f00:1",
    // IPv4-translated (RFC 2765).
    "::ffff:0:7f00:1",
    // The well-known NAT64 prefix.
    "64:ff9b::7f00:1",
    // IPv4-mapped.
    "::ffff:7f00:1",
    // IPv4-compatible (deprecated).
    "::7f00:1",
];

#[tokio::test]
async fn ipv6_forms_that_carry_a_private_address_are_refused() {
    let app = spawn_delivering_app_to(Targets::default()).await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let receiver = Receiver::start().await;
    let port = receiver
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // At registration: not a URL a webhook may have.
    for ip in LOOPBACK_IN_IPV6.into_iter().chain(["64:ff9b:1::808:808"]) {
        let url = format!("https://[{ip}]:{port}/in");
        let r = app
            .post("/v1/webhooks", admin, json!({"url": url, "events": EVENTS}))
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), ["url"], "{url}");
    }
    // Stored anyway (by an older version, say): never sent.
    let (hook, _) = register(&app, admin, "https://hooks.clinic.example/in", &EVENTS).await;
    for ip in LOOPBACK_IN_IPV6 {
        store_url(&app, &hook, &format!("https://[{ip}]:{port}/in"));
        check_in_now(&app, &s.patients[0]).await;
        let n = LOOPBACK_IN_IPV6.iter().position(|i| *i == ip).unwrap() + 1;
        eventually(&format!("an attempt for {ip}"), || async {
            let items = deliveries(&app, admin, &hook).await;
            (items.len() == n
                && items
                    .iter()
                    .all(|d| !d["attempts"].as_array().unwrap().is_empty()))
            .then_some(())
        })
        .await;
    }
    let items = deliveries(&app, admin, &hook).await;
    for d in &items {
        for a in d["attempts"].as_array().unwrap() {
            assert!(a["http_status"].is_null(), "{a}");
            assert_eq!(a["error"], "no HTTP answer");
        }
    }
    assert!(receiver.received().is_empty());
}

/// Seals what the requests recorded, as the server's job does every second, and checks the chain
/// as `aftercare admin verify-audit` does.
async fn seal_and_verify(app: &TestApp) {
    let url = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        aftercare::workers::audit_sealing::seal(&mut conn, 1000).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
            .args(["admin", "verify-audit"])
            .env("DATABASE_URL", url)
            .output()
            .expect("run aftercare")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_read_filtered_by_a_patient_is_recorded_under_them_even_when_it_finds_nothing() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let (admin, clinician) = (&s.clinic.admin, &s.clinician);
    let patient = &s.patients[0].id;

    let alerts = app
        .get(&format!("/v1/alerts?patient_id={patient}"), clinician)
        .await;
    assert_eq!(alerts.ok(200)["items"], json!([]));
    let records: Vec<Value> = trail(&app, admin, &format!("patient_id={patient}"))
        .await
        .into_iter()
        .filter(|e| e["resource_type"] == "alert")
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "list");
    assert_eq!(records[0]["outcome"], "success");
    assert_eq!(records[0]["actor_role"], "clinician");

    // Another clinic's patient named in the filter: recorded, under no patient of this clinic.
    let theirs = &other.patients[0].id;
    app.get(&format!("/v1/alerts?patient_id={theirs}"), clinician)
        .await
        .ok(200);
    assert!(
        trail(&app, admin, &format!("patient_id={theirs}"))
            .await
            .is_empty()
    );
    assert!(
        trail(&app, &other.clinic.admin, &format!("patient_id={theirs}"))
            .await
            .iter()
            .all(|e| e["resource_type"] != "alert"),
        "nothing of it reaches the other clinic's trail"
    );
    // An unfiltered empty list names no patient.
    app.get("/v1/alerts", clinician).await.ok(200);
    let unnamed = trail(&app, admin, "action=list")
        .await
        .into_iter()
        .filter(|e| e["resource_type"] == "alert" && e["patient_id"].is_null())
        .count();
    assert_eq!(
        unnamed,
        2,
        "the other clinic's patient and the unfiltered list: {:?}",
        trail(&app, admin, "action=list").await
    );
    seal_and_verify(&app).await;
}

#[tokio::test]
async fn a_system_clients_reads_are_recorded_as_the_system_client() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let admin = &s.clinic.admin;
    let patient = &s.patients[0].id;
    let (client, token) = system_client(&app, admin).await;

    app.get(&format!("/fhir/R4/Patient/{patient}"), &token)
        .await
        .ok(200);
    app.get("/fhir/R4/Patient", &token).await.ok(200);
    // The admin reads too, to tell the two apart.
    app.get(&format!("/fhir/R4/Patient/{patient}"), admin)
        .await
        .ok(200);

    let by_client = trail(&app, admin, &format!("actor_id={client}")).await;
    // The read, and the search's one record per patient shown.
    assert_eq!(by_client.len(), 3, "{by_client:?}");
    for e in &by_client {
        assert_eq!(e["actor_id"], client.as_str());
        assert_eq!(e["actor_role"], "system", "{e}");
    }
    let under_patient = trail(&app, admin, &format!("patient_id={patient}")).await;
    let roles: Vec<(&str, &str)> = under_patient
        .iter()
        .filter(|e| e["resource_type"] == "fhir_resource")
        .map(|e| {
            (
                e["actor_role"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(roles.contains(&("system", client.as_str())), "{roles:?}");
    assert_eq!(
        roles.iter().filter(|(role, _)| *role == "admin").count(),
        1,
        "only the admin's own read is an admin's: {roles:?}"
    );
    assert!(
        roles
            .iter()
            .all(|(role, id)| *role != "admin" || *id != client)
    );
    seal_and_verify(&app).await;
}
