//! The real binary: JSON logs, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

const JWT_SECRET: &str = "9c4e1f0a7b3d2e8c6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";

fn http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn get(port: u16, path: &str) -> String {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn sigterm_fails_readiness_first_finishes_requests_in_flight_then_exits() {
    stops_gracefully_on("TERM");
}

#[test]
fn sigint_does_the_same() {
    stops_gracefully_on("INT");
}

/// Signals the server with `signal` while a request is in flight, and checks the stop and the logs.
fn stops_gracefully_on(signal: &str) {
    let (db_name, db_url) = fresh_database();
    let mut conn = {
        use diesel::Connection;
        diesel::PgConnection::establish(&db_url).unwrap()
    };
    let email = "admin@shutdown.example";
    aftercare::cli::create_clinic(
        &mut conn,
        "Shutdown",
        "Europe/Berlin",
        email,
        PASSWORD,
        None,
    )
    .unwrap();
    drop(conn);

    let mut child = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .arg("serve")
        .env("DATABASE_URL", &db_url)
        .env("AFTERCARE_JWT_SECRET", JWT_SECRET)
        .env("AFTERCARE_ADDR", "127.0.0.1:0")
        .env("AFTERCARE_PUBLIC_URL", "https://aftercare.clinic.example")
        .env("AFTERCARE_SHUTDOWN_GRACE_MS", "1500")
        .env_remove("AFTERCARE_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aftercare serve");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let lines = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "serving"
                {
                    let _ = tx.send(v["port"].as_u64().unwrap() as u16);
                }
                lines.lock().unwrap().push(line);
            }
        });
    }
    let port = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    assert!(get(port, "/readyz").starts_with("HTTP/1.1 200"));

    // A sign-in whose body is only half sent when the signal comes.
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    let (first, rest) = body.split_at(10);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        in_flight,
        "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // Readiness fails first, while requests are still served.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = get(port, "/readyz");
        if ready.starts_with("HTTP/1.1 503") {
            assert!(get(port, "/livez").starts_with("HTTP/1.1 200"));
            break;
        }
        assert!(Instant::now() < deadline, "readiness never failed: {ready}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // After the grace period new connections are refused...
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        std::thread::sleep(Duration::from_millis(100));
    }
    // ...but the request in flight is answered, and then the process exits.
    in_flight.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let token = serde_json::from_str::<Value>(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap()
        ["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");

    // Every log line is JSON; the requests' lines carry their id; no secret is in them.
    let lines = lines.lock().unwrap().clone();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["message"] == "request" {
            assert!(v["request_id"].is_string(), "{line}");
        }
        if let Some(span) = v.get("span") {
            assert!(span["request_id"].is_string(), "{line}");
        }
    }
    let all = lines.join("\n");
    for secret in [PASSWORD, &token, JWT_SECRET] {
        assert!(!all.contains(secret), "a secret is in the logs");
    }
    assert!(all.contains("shutting down") && all.contains(&format!("SIG{signal}")));

    drop_database(&db_name);
}

/// A delivery worker (webhooks, Web Push) stops with the jobs: told to stop, it takes nothing
/// more, and its task ends once the attempt in flight has, so that the server's stop waits for it.
#[tokio::test]
async fn a_delivery_worker_stops_after_its_attempt_in_flight() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    use aftercare::config::Pace;
    use aftercare::db::pool::{PoolSettings, build};
    use aftercare::workers::Stop;
    use aftercare::workers::delivery::{Sender, spawn};

    static CLAIMS: AtomicUsize = AtomicUsize::new(0);
    static DELIVERED: AtomicBool = AtomicBool::new(false);

    /// One item, whose attempt takes a while.
    struct Slow;

    impl Sender for Slow {
        type Item = ();
        const ITEMS: &'static str = "test items";

        fn pace(&self) -> Pace {
            Pace {
                retry_base: Duration::from_secs(1),
                retry_cap: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                poll_interval: Duration::from_millis(20),
                concurrency: 2,
            }
        }

        fn claim(_: &mut diesel::PgConnection, _: i64, _: i64) -> diesel::QueryResult<Vec<()>> {
            let first = CLAIMS.fetch_add(1, SeqCst) == 0;
            Ok(if first { vec![()] } else { vec![] })
        }

        async fn deliver(&self, _: &aftercare::db::Pool, _: ()) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            DELIVERED.store(true, SeqCst);
        }
    }

    let settings = PoolSettings {
        max_size: 2,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        test_on_check_out: false,
    };
    let pool = build(&db_url("postgres"), &settings);
    let stop = Stop::default();
    let worker = spawn(pool, Slow, stop.clone()).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while CLAIMS.load(SeqCst) == 0 {
        assert!(
            Instant::now() < until,
            "the worker never looked for due items"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.stop();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("the worker stops")
        .unwrap();
    assert!(
        DELIVERED.load(SeqCst),
        "the worker ended before its attempt in flight"
    );
    let claims = CLAIMS.load(SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        CLAIMS.load(SeqCst),
        claims,
        "a stopped worker still takes items"
    );
}
