//! What one check-in and one protocol view ask of PostgreSQL, read off the wire, are the statements
//! of the benchmark's pgbench scripts (`bench/pgbench/`), so the ceiling they measure is the
//! service's own. When the service's SQL changes, this test names the script to change with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aftercare::config::HttpSettings;
use aftercare::startup::Background;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};

use crate::helpers::*;

type Log = Arc<Mutex<Vec<String>>>;

/// A proxy to PostgreSQL that writes down every statement its clients execute.
async fn recording_proxy(target: String, log: Log) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (target, log) = (target.clone(), log.clone());
            tokio::spawn(async move {
                // A server on a Unix socket (the tests' own PostgreSQL), or on TCP.
                if let Some(socket) = target.strip_prefix('/') {
                    let path = format!("/{socket}/.s.PGSQL.5432");
                    if let Ok(server) = UnixStream::connect(path).await {
                        relay(client, server, log).await;
                    }
                } else if let Ok(server) = TcpStream::connect(target).await {
                    relay(client, server, log).await;
                }
            });
        }
    });
    port
}

async fn relay<S>(client: TcpStream, server: S, log: Log)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = tokio::io::split(server);
    tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });
    let _ = read_statements(&mut client_read, &mut server_write, &log).await;
}

/// Passes the client's messages on, noting the SQL of each simple query and of each bound
/// statement (a prepared statement is bound again each time it runs).
async fn read_statements(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    log: &Log,
) -> std::io::Result<()> {
    // The startup message, after an SSL request when the client asks for one.
    loop {
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        to.write_u32(len).await?;
        to.write_all(&body).await?;
        if body[..4] != 80877103u32.to_be_bytes() {
            break;
        }
    }
    let mut prepared: HashMap<String, String> = HashMap::new();
    loop {
        let kind = from.read_u8().await?;
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        let mut strings = body.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s));
        match kind {
            b'Q' => log.lock().unwrap().push(strings.next().unwrap().into()),
            b'P' => {
                let (name, sql) = (strings.next().unwrap(), strings.next().unwrap());
                prepared.insert(name.into(), sql.into());
            }
            b'B' => {
                let statement = strings.nth(1).unwrap();
                log.lock()
                    .unwrap()
                    .push(prepared[statement.as_ref()].clone());
            }
            _ => {}
        }
        to.write_u8(kind).await?;
        to.write_u32(len).await?;
        to.write_all(&body).await?;
    }
}

/// What a statement does, to what: `insert check_ins`, `begin`. Enough to tell the statements of
/// a request apart, and blind to how the service and pgbench spell their parameters.
fn shape(sql: &str) -> String {
    let sql = sql.to_lowercase().replace('"', "");
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let verb = sql.split([' ', ';']).next().unwrap_or_default().to_string();
    let table = [" from ", " into ", "update "]
        .iter()
        .filter_map(|k| sql.find(k).map(|at| (at, at + k.len())))
        .min()
        .and_then(|(_, start)| {
            sql[start..]
                .trim_start_matches('(')
                .split([' ', '(', ';'])
                .next()
        })
        .unwrap_or_default();
    match verb.as_str() {
        "begin" if sql.contains("read only") => "begin read only".into(),
        "begin" | "commit" | "rollback" | "savepoint" | "release" | "set" => verb,
        _ => format!("{verb} {table}").trim().to_string(),
    }
}

/// The statements of a pgbench script: each ends with `;` or a `\gset`; `--` comments and
/// pgbench's own commands (`\set`) are not statements.
fn script(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (mut statements, mut current) = (vec![], String::new());
    for line in text.lines().map(|l| l.split("--").next().unwrap().trim()) {
        if line.is_empty() || line.starts_with("\\set") {
            continue;
        }
        current.push(' ');
        current.push_str(line.trim_end_matches("\\gset"));
        if line.ends_with(';') || line.ends_with("\\gset") {
            statements.push(shape(&std::mem::take(&mut current)));
        }
    }
    statements
}

/// The shapes of the statements logged since last asked.
fn shapes(log: &Log) -> Vec<String> {
    log.lock().unwrap().drain(..).map(|s| shape(&s)).collect()
}

/// Shapes less a refresh of the read model (a read-only transaction), which a check-in runs at most
/// once a second, not once a check-in.
fn without_refresh(shapes: Vec<String>) -> Vec<String> {
    let mut refreshing = false;
    shapes
        .into_iter()
        .filter(|s| {
            let skip = refreshing || s == "begin read only";
            refreshing = skip && s != "commit";
            !skip
        })
        .collect()
}

#[tokio::test]
async fn a_check_in_and_a_protocol_view_run_the_statements_of_the_pgbench_scripts() {
    let server = server_url();
    let host_port = server.rsplit('@').next().unwrap().to_string();
    let log: Log = Arc::default();
    let port = recording_proxy(host_port.replace("%2F", "/"), log.clone()).await;
    // The test databases' URLs ask for no TLS (`db_url`), so the proxy reads the wire in the clear.
    let app = spawn_app_through(HttpSettings::default(), Background::default(), |url| {
        url.replace(&host_port, &format!("127.0.0.1:{port}"))
    })
    .await;
    let s = app.scenario("Wire").await;
    let p = &s.patients[0];
    let at = |hours| s.performed_at + chrono::Duration::hours(hours);
    let scores = json!({"redness": 1, "swelling": 1, "pain": 0});
    // The steady state: a patient's second check-in, and a view after the read model has loaded.
    app.check_in(&p.token, &CheckIn::new(&p.treatment, at(1), scores.clone()))
        .await
        .ok(201);
    let view = format!("/v1/protocols/{}/recovery", s.protocol);
    app.get(&view, &s.clinician).await.ok(200);

    // Past the time a live session is remembered, as for a phone's next check-in.
    tokio::time::sleep(
        aftercare::web::auth::sessions::LIVE_FOR + std::time::Duration::from_millis(200),
    )
    .await;
    shapes(&log);
    app.check_in(&p.token, &CheckIn::new(&p.treatment, at(2), scores))
        .await
        .ok(201);
    assert_eq!(
        without_refresh(shapes(&log)),
        script("bench/pgbench/check_in.sql"),
        "a check-in's statements differ from bench/pgbench/check_in.sql"
    );
    app.get(&view, &s.clinician).await.ok(200);
    assert_eq!(
        shapes(&log),
        script("bench/pgbench/view.sql"),
        "a protocol view's statements differ from bench/pgbench/view.sql"
    );
}

#[test]
fn shapes_tell_statements_apart_by_what_they_do_to_which_table() {
    assert_eq!(shape("SELECT 1"), "select");
    assert_eq!(shape("BEGIN ISOLATION LEVEL REPEATABLE READ"), "begin");
    assert_eq!(
        shape("INSERT INTO \"check_ins\" (\"id\") VALUES ($1)"),
        "insert check_ins"
    );
    assert_eq!(
        shape("SELECT a FROM x WHERE b IN (SELECT c FROM y)"),
        "select x"
    );
    assert_eq!(
        shape("SELECT a FROM (x INNER JOIN y ON x.b = y.b)"),
        "select x"
    );
}
