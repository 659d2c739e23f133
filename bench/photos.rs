//! The photo benchmark (issue 26): phones send 2,048-px JPEGs with their check-ins, and the server
//! checks, re-encodes (metadata dropped, orientation applied) and stores each with its thumbnail.
//! Enrols PHONES patients of a fresh clinic, then has each phone upload photos one after another
//! for SECONDS; prints photos re-encoded a second and their latency, and the server's memory
//! above idle: its resident set sampled every 10 ms and its high-water mark (VmHWM) at the end.
//!
//! Usage: bench-photos BASE_URL ADMIN_EMAIL SERVER_PID [PHONES] [SECONDS]
//! (the admin's password in AFTERCARE_ADMIN_PASSWORD; `bench/photos.sh` runs it all.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Distinct photos the phones send in turn (so no cache of the server's sees the same bytes).
const PHOTOS: usize = 16;

/// A phone's photo of skin, 2,048 x 1,536: a skin tone of a Fitzpatrick type with soft light, a
/// reddened area and the grain of a phone's sensor (which makes JPEGs of realistic size, as a
/// smooth drawing would not).
fn photo(seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let tones = [
        [246.0, 221.0, 200.0],
        [219.0, 170.0, 135.0],
        [190.0, 134.0, 96.0],
        [92.0, 60.0, 44.0],
    ];
    let tone: [f32; 3] = tones[seed as usize % tones.len()];
    let (w, h) = (2048u32, 1536u32);
    let (cx, cy, r) = (
        rng.random_range(600.0..1400.0f32),
        rng.random_range(500.0..1000.0f32),
        rng.random_range(250.0..500.0f32),
    );
    let grain: f32 = rng.random_range(9.0..13.0);
    let image = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let light = 1.0 + 0.08 * (fx / 700.0).sin() * (fy / 500.0).cos();
        let d2 = ((fx - cx).powi(2) + (fy - cy).powi(2)) / (r * r);
        let red = 0.6 * (-d2).exp();
        let noise: f32 = rng.random_range(-grain..grain);
        let c = |i: usize, inflamed: f32| {
            ((tone[i] * (1.0 - red) + inflamed * red) * light + noise).clamp(0.0, 255.0) as u8
        };
        Rgb([c(0, 215.0), c(1, 70.0), c(2, 80.0)])
    });
    let mut out = vec![];
    JpegEncoder::new_with_quality(&mut out, 88)
        .write_image(image.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

/// A field of `/proc/PID/status` in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

/// Enrols `n` patients, each with a treatment yesterday and a check-in today: (phone token,
/// check-in id) per phone.
async fn phones(api: &Api, admin: &str, n: usize) -> Vec<(String, String)> {
    let protocol = api
        .send(
            "POST",
            "/v1/protocols",
            Some(admin),
            json!({"name": "Bench 1.0 mm",
            "procedure": "microneedling", "needle_depth_mm": 1.0, "areas": ["face"],
            "sessions_planned": 3, "interval_days": 35, "check_in_days": [0, 1, 3, 7, 14]}),
        )
        .await;
    let no = json!({"active_acne": false, "skin_infection": false, "eczema_psoriasis": false,
                    "keloid_history": false, "bleeding_disorder": false, "pregnancy": false,
                    "skin_allergy": false, "diabetes": false});
    let mut out = vec![];
    for i in 0..n {
        let body =
            json!({"external_ref": format!("BENCH-PHOTO-{i}"), "fitzpatrick_type": 1 + i % 6});
        let patient = text(
            &api.send("POST", "/v1/patients", Some(admin), body).await,
            "id",
        );
        let performed = chrono::Utc::now() - chrono::Duration::days(1);
        let body = json!({"protocol_id": text(&protocol, "id"), "performed_at": performed,
                          "contraindications": no});
        let path = format!("/v1/patients/{patient}/treatments");
        let treatment = text(&api.send("POST", &path, Some(admin), body).await, "id");
        let path = format!("/v1/patients/{patient}/enrollment-codes");
        let code = api.send("POST", &path, Some(admin), Value::Null).await;
        let body = json!({"code": text(&code, "code")});
        let phone = text(
            &api.send("POST", "/v1/auth/enroll", None, body).await,
            "access_token",
        );
        let check_in = uuid::Uuid::new_v4().to_string();
        let body = json!({"id": check_in, "treatment_id": treatment,
                          "recorded_at": chrono::Utc::now(), "scores": {"redness": 2}});
        api.send("POST", "/v1/check-ins", Some(&phone), body).await;
        out.push((phone, check_in));
    }
    out
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().expect("BASE_URL");
    let email = args.get(2).cloned().expect("ADMIN_EMAIL");
    let pid: u32 = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .expect("SERVER_PID");
    let n: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(8);
    let seconds: u64 = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(20);
    let password = std::env::var("AFTERCARE_ADMIN_PASSWORD").expect("AFTERCARE_ADMIN_PASSWORD");
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        base,
    });

    let t = Instant::now();
    let photos: Vec<Arc<Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..PHOTOS as u64)
            .map(|i| s.spawn(move || photo(i)))
            .collect();
        handles
            .into_iter()
            .map(|h| Arc::new(h.join().unwrap()))
            .collect()
    });
    let sizes: Vec<usize> = photos.iter().map(|p| p.len()).collect();
    println!(
        "{PHOTOS} photos of 2048 x 1536 made in {:.1} s: {:.2}-{:.2} MB, mean {:.2} MB",
        t.elapsed().as_secs_f64(),
        *sizes.iter().min().unwrap() as f64 / 1e6,
        *sizes.iter().max().unwrap() as f64 / 1e6,
        sizes.iter().sum::<usize>() as f64 / sizes.len() as f64 / 1e6
    );

    let login = json!({"email": email, "password": password});
    let admin = text(
        &api.send("POST", "/v1/auth/login", None, login).await,
        "access_token",
    );
    let phones = phones(&api, &admin, n).await;
    println!("{n} phones enrolled, each with a check-in");

    // Idle: the server after its start and the enrolments, settled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = status_kib(pid, "VmRSS:");
    let hwm_before = status_kib(pid, "VmHWM:");
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(idle));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = phones
        .into_iter()
        .map(|(token, check_in)| {
            let (api, photos, next) = (api.clone(), photos.clone(), next.clone());
            tokio::spawn(async move {
                let mut ms = vec![];
                let path = format!(
                    "{}/v1/check-ins/{check_in}/photos?clinical_use=true",
                    api.base
                );
                while Instant::now() < until {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let body = photos[i % photos.len()].as_ref().clone();
                    let t = Instant::now();
                    let res = api
                        .http
                        .post(&path)
                        .bearer_auth(&token)
                        .header("content-type", "image/jpeg")
                        .body(body)
                        .send()
                        .await
                        .expect("upload");
                    let status = res.status();
                    let text = res.text().await.unwrap_or_default();
                    assert_eq!(status.as_u16(), 201, "{text}");
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                ms
            })
        })
        .collect();
    let mut ms = vec![];
    for w in workers {
        ms.extend(w.await.expect("phone"));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let hwm = status_kib(pid, "VmHWM:");

    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    let mean_mb = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64 / 1e6;
    println!(
        "uploads from {n} phones for {:.1} s: {} photos, {:.1} photos/s ({:.1} MB/s in), \
         latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        elapsed.as_secs_f64(),
        ms.len(),
        ms.len() as f64 / elapsed.as_secs_f64(),
        ms.len() as f64 * mean_mb / elapsed.as_secs_f64(),
        p(0.5),
        p(0.95),
        p(0.99)
    );
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "server memory: idle {:.0} MB; peak RSS sampled {:.0} MB ({:.0} MB above idle); \
         VmHWM {:.0} MB before, {:.0} MB after ({:.0} MB above idle)",
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(idle) as f64 / 1024.0,
        hwm_before as f64 / 1024.0,
        hwm as f64 / 1024.0,
        hwm.saturating_sub(idle) as f64 / 1024.0,
    );
}
