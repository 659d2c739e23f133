//! The database goes away in the middle of a stream of check-ins, and comes back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aftercare::config::HttpSettings;
use aftercare::startup::Background;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::*;

/// A TCP proxy to PostgreSQL that can be cut: every connection through it dropped, new ones refused.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (u, c) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the server is away
                }
                let target = target.clone();
                c.lock().await.push(tokio::spawn(async move {
                    // A server on a Unix socket (the tests' own PostgreSQL), or on TCP.
                    if let Some(socket) = target.strip_prefix('/') {
                        let path = format!("/{socket}/.s.PGSQL.5432");
                        if let Ok(mut server) = UnixStream::connect(path).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    } else if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            up,
            connections,
        }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.connections.lock().await.drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = BigInt)]
    scores: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_acknowledged_while_the_database_restarts_are_stored_once() {
    let server = server_url();
    // host:port, or the folder of a Unix socket, %2F-encoded.
    let host_port = server.rsplit('@').next().unwrap().to_string();
    let proxy = Proxy::start(host_port.replace("%2F", "/")).await;
    let port = proxy.port;
    let app = spawn_app_through(HttpSettings::default(), Background::default(), |url| {
        url.replace(&host_port, &format!("127.0.0.1:{port}"))
    })
    .await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];

    let mut acked: HashMap<Uuid, u16> = HashMap::new();
    let mut unavailable = 0;
    let mut outage: Option<JoinHandle<Instant>> = None;
    let proxy = Arc::new(proxy);
    for i in 0..60 {
        if i == 15 {
            // Cut the database for three seconds, and check that readiness says so meanwhile.
            let (proxy, base, client) = (proxy.clone(), app.base.clone(), app.client.clone());
            outage = Some(tokio::spawn(async move {
                proxy.cut().await;
                let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
                assert_eq!(ready.status(), 503);
                assert!(ready.headers().contains_key("retry-after"));
                tokio::time::sleep(Duration::from_secs(3)).await;
                proxy.restore();
                Instant::now()
            }));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let check_in = CheckIn::new(
            &p.treatment,
            s.performed_at + chrono::Duration::minutes(i),
            json!({"redness": 1, "swelling": 1}),
        );
        // The app's retry: the same check-in again until it is acknowledged.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "check-in {i} never acknowledged");
            let sent = app
                .client
                .post(format!("{}/v1/check-ins", app.base))
                .bearer_auth(&p.token)
                .json(&check_in)
                .send()
                .await;
            let Ok(res) = sent else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let status = res.status().as_u16();
            let retry_after = res.headers().contains_key("retry-after");
            let text = res.text().await.unwrap_or_default();
            match status {
                200 | 201 => {
                    acked.insert(check_in.id, status);
                    break;
                }
                503 => {
                    assert!(retry_after, "a 503 without Retry-After: {text}");
                    unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ => panic!("check-in {i}: {status} {text}"),
            }
        }
    }
    let restored = outage.unwrap().await.unwrap();
    assert!(unavailable > 0, "the outage was not noticed");

    // Serving again within seconds of the database's return.
    let ready = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(ready.status, 200);
    assert!(restored.elapsed() < Duration::from_secs(30));

    // Every acknowledged check-in is stored, once, with its scores once.
    let mut conn = app.db();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.id, (SELECT count(*) FROM check_in_scores s WHERE s.check_in_id = c.id) AS scores
           FROM check_ins c WHERE c.treatment_id = $1",
    )
    .bind::<SqlUuid, _>(p.treatment.parse::<Uuid>().unwrap())
    .load(&mut conn)
    .unwrap();
    assert_eq!(rows.len(), acked.len());
    for row in rows {
        assert!(acked.contains_key(&row.id));
        assert_eq!(row.scores, 2);
    }
}
