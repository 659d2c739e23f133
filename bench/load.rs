//! Load run against a running server holding the generated data: latency percentiles of the recovery
//! views, and the check-in ingestion rate at a fixed concurrency, alone and while the views are read.
//!
//! Usage: cargo run --release --example bench-load -- BASE_URL [REQUESTS] [CONCURRENCY] [SECONDS] [all|ingest]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "bench-password-0001";
const CLINICIAN: &str = "clinician@bench.aftercare.test";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(token),
        )
        .await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }
}

/// Check-ins in one batch request.
const BATCH: usize = 100;

/// The i-th check-in of a run: a recovering patient's answers; one in fifty reports infection
/// signs, which raises (or adds to) an urgent alert.
fn check_in(i: usize, treatment: &str) -> Value {
    let scores = json!({"redness": i % 2, "swelling": 0, "flaking": 1, "itching": i % 2, "pain": 0,
                        "infection": u8::from(i.is_multiple_of(50)), "fever": 0, "bruising": 0});
    json!({"id": uuid::Uuid::new_v4(), "treatment_id": treatment,
           "recorded_at": chrono::Utc::now(), "scores": scores})
}

/// The path of the i-th request of a run.
type PathFn = Box<dyn Fn(usize) -> String + Send + Sync>;

/// Nearest-rank percentiles, in milliseconds.
fn report(name: &str, mut ms: Vec<f64>, elapsed: Duration) {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    println!(
        "{name:<34} n={:<6} {:>8.1} req/s   p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms",
        ms.len(),
        ms.len() as f64 / elapsed.as_secs_f64(),
        p(0.50),
        p(0.95),
        p(0.99)
    );
}

/// Runs `make(i)` `n` times at `concurrency`, or until `until` passes, each worker starting a
/// request at most every `pace`; returns the latencies.
async fn run<F, Fut>(
    n: usize,
    concurrency: usize,
    until: Option<Instant>,
    pace: Duration,
    make: F,
) -> (Vec<f64>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (make, next) = (make.clone(), next.clone());
            tokio::spawn(async move {
                let mut ms = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || until.is_some_and(|u| Instant::now() >= u) {
                        return ms;
                    }
                    let t = Instant::now();
                    let status = make(i).await;
                    assert!((200..300).contains(&status), "status {status}");
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    tokio::time::sleep(pace.saturating_sub(t.elapsed())).await;
                }
            })
        })
        .collect();
    let mut all = vec![];
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    (all, started.elapsed())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let requests: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let concurrency: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(4);
    let seconds: u64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(20);
    let ingest_only = args.get(5).is_some_and(|m| m == "ingest");
    let c = Arc::new(Client {
        http: reqwest::Client::new(),
        base,
    });

    let (_, tokens) = c
        .post(
            "/v1/auth/login",
            None,
            json!({"email": CLINICIAN, "password": PASSWORD}),
        )
        .await;
    let doc = tokens["access_token"]
        .as_str()
        .expect("clinician login")
        .to_string();
    let (_, protocols) = c.get("/v1/protocols", &doc).await;
    let protocols: Vec<String> = protocols["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    let (_, patients) = c.get("/v1/patients?limit=200", &doc).await;
    let patients: Vec<String> = patients["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();

    // Phones: 50 enrolled patients, each posting to their latest treatment.
    let mut phones = vec![];
    for patient in patients.iter().take(50) {
        let (_, code) = c
            .post(
                &format!("/v1/patients/{patient}/enrollment-codes"),
                Some(&doc),
                json!(null),
            )
            .await;
        let (_, t) = c
            .post("/v1/auth/enroll", None, json!({"code": code["code"]}))
            .await;
        let token = t["access_token"].as_str().unwrap().to_string();
        let (_, treatments) = c
            .get(
                &format!("/v1/patients/{patient}/treatments?limit=1"),
                &token,
            )
            .await;
        phones.push((
            token,
            treatments["items"][0]["id"].as_str().unwrap().to_string(),
        ));
    }
    let phones = Arc::new(phones);

    let t = Instant::now();
    let (status, _) = c
        .get(&format!("/v1/protocols/{}/recovery", protocols[0]), &doc)
        .await;
    assert_eq!(status, 200);
    println!(
        "first view after start (loads the read model): {:.0} ms\n",
        t.elapsed().as_secs_f64() * 1000.0
    );

    let views: Vec<(&str, PathFn)> = vec![
        ("protocol view", {
            let p = protocols.clone();
            Box::new(move |i| format!("/v1/protocols/{}/recovery", p[i % p.len()]))
        }),
        ("protocol view, by skin type", {
            let p = protocols.clone();
            Box::new(move |i| {
                format!(
                    "/v1/protocols/{}/recovery?fitzpatrick_type={}",
                    p[i % p.len()],
                    1 + i % 6
                )
            })
        }),
        ("protocol view, type and area", {
            let p = protocols.clone();
            Box::new(move |i| {
                format!(
                    "/v1/protocols/{}/recovery?fitzpatrick_type={}&area=neck",
                    p[i % p.len()],
                    1 + i % 6
                )
            })
        }),
        ("protocol view, last 30 days", {
            let p = protocols.clone();
            let from = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
            Box::new(move |i| format!("/v1/protocols/{}/recovery?from={from}", p[i % p.len()]))
        }),
        ("compare view (3 protocols)", {
            let ids = protocols.join(",");
            Box::new(move |_| format!("/v1/protocols/compare?ids={ids}"))
        }),
        ("patient view", {
            let p = patients.clone();
            Box::new(move |i| format!("/v1/patients/{}/recovery", p[i % p.len()]))
        }),
        ("dashboard", Box::new(|_| "/v1/dashboard".to_string())),
    ];
    if !ingest_only {
        println!("views, {requests} requests at concurrency {concurrency}, no check-ins arriving:");
    }
    for (name, path) in views.into_iter().filter(|_| !ingest_only) {
        let (c2, doc2, path) = (c.clone(), doc.clone(), Arc::new(path));
        let (ms, elapsed) = run(requests, concurrency, None, Duration::ZERO, move |i| {
            let (c, doc, path) = (c2.clone(), doc2.clone(), path.clone());
            async move { c.get(&path(i), &doc).await.0 }
        })
        .await;
        report(name, ms, elapsed);
    }

    let post_check_in = {
        let (c, phones) = (c.clone(), phones.clone());
        move |i: usize| {
            let (c, phones) = (c.clone(), phones.clone());
            async move {
                let (token, treatment) = &phones[i % phones.len()];
                c.post("/v1/check-ins", Some(token), check_in(i, treatment))
                    .await
                    .0
            }
        }
    };
    // A phone that was offline sends what it kept in one batch.
    let post_batch = {
        let (c, phones) = (c.clone(), phones.clone());
        move |i: usize| {
            let (c, phones) = (c.clone(), phones.clone());
            async move {
                let (token, treatment) = &phones[i % phones.len()];
                let items: Vec<Value> = (0..BATCH)
                    .map(|k| check_in(i * BATCH + k, treatment))
                    .collect();
                c.post(
                    "/v1/check-ins/batch",
                    Some(token),
                    json!({"check_ins": items}),
                )
                .await
                .0
            }
        }
    };
    let ingest_concurrency = 8;
    println!("\ncheck-in ingestion, concurrency {ingest_concurrency}, {seconds} s each:");
    let until = Instant::now() + Duration::from_secs(seconds);
    let (ms, elapsed) = run(
        usize::MAX,
        ingest_concurrency,
        Some(until),
        Duration::ZERO,
        post_check_in.clone(),
    )
    .await;
    report("check-ins alone", ms, elapsed);
    let until = Instant::now() + Duration::from_secs(seconds);
    let (ms, elapsed) = run(
        usize::MAX,
        ingest_concurrency,
        Some(until),
        Duration::ZERO,
        post_batch,
    )
    .await;
    let batches = ms.len();
    report(&format!("batches of {BATCH}"), ms, elapsed);
    println!(
        "{:<34} {:>8.1} check-ins/s",
        "  in check-ins",
        (batches * BATCH) as f64 / elapsed.as_secs_f64()
    );
    if ingest_only {
        return;
    }

    // Clinicians at work: 20 views a second, a mix of the four views, while the phones post.
    let mixed = {
        let (c, doc, p, patients) = (c.clone(), doc.clone(), protocols.clone(), patients.clone());
        move |i: usize| {
            let path = match i % 4 {
                0 => format!("/v1/protocols/{}/recovery", p[i % p.len()]),
                1 => format!("/v1/protocols/compare?ids={}", p.join(",")),
                2 => format!("/v1/patients/{}/recovery", patients[i % patients.len()]),
                _ => "/v1/dashboard".to_string(),
            };
            let (c, doc) = (c.clone(), doc.clone());
            async move { c.get(&path, &doc).await.0 }
        }
    };
    for (label, readers, pace) in [
        ("20 views/s", 2, Duration::from_millis(100)),
        ("views as fast as 2 clients go", 2, Duration::ZERO),
    ] {
        let until = Instant::now() + Duration::from_secs(seconds);
        let reading = tokio::spawn(run(usize::MAX, readers, Some(until), pace, mixed.clone()));
        let (ms, elapsed) = run(
            usize::MAX,
            ingest_concurrency,
            Some(until),
            Duration::ZERO,
            post_check_in.clone(),
        )
        .await;
        report(&format!("check-ins, {label}"), ms, elapsed);
        let (ms, elapsed) = reading.await.expect("readers");
        report(&format!("  mixed views, {label}"), ms, elapsed);
    }
}
