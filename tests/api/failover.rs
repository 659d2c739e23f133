//! What the service does when its database server goes away or stops taking writes, as in a
//! failover: the pool's connections to it leave at once, and clients get a 503 to retry, never a
//! 500. The whole failover, with pg_auto_failover, is `.ci/failover`.

use std::time::Duration;

use aftercare::db;
use aftercare::error::ApiError;
use aftercare::startup::Background;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use serde_json::json;

use crate::helpers::*;

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

fn backend_pid(conn: &mut PgConnection) -> Result<i32, ApiError> {
    Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(conn)?
        .pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_to_a_server_that_dropped_them_leave_the_pool_after_the_first_failure() {
    let app = spawn_app().await;
    // Not tested on checkout, as the service runs.
    let pool = db::pool(
        &app.db_url,
        3,
        Duration::from_secs(2),
        Duration::from_secs(5),
    );
    // Three connections, idle in the pool.
    let p = pool.clone();
    let pids = tokio::task::spawn_blocking(move || {
        let mut held: Vec<_> = (0..3).map(|_| p.get().unwrap()).collect();
        held.iter_mut()
            .map(|c| backend_pid(c).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // The server ends them all, as a primary that dies does.
    let mut admin = app.db();
    for pid in &pids {
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut admin)
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The first piece of work finds its connection gone: a 503 to retry, not a 500.
    let first = db::run(&pool, backend_pid).await;
    assert!(matches!(first, Err(ApiError::Unavailable(_))), "{first:?}");
    // The other two were made before it, and never come out again.
    for _ in 0..4 {
        let pid = db::run(&pool, backend_pid).await.expect("a new connection");
        assert!(!pids.contains(&pid), "a dropped connection came back");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_takes_no_writes_is_not_ready_and_writes_are_503() {
    let app = spawn_app().await;
    let s = app.scenario("Read Only").await;
    // What a standby, or a node pg_auto_failover is promoting or draining, looks like to new sessions.
    let name = app.db_url.rsplit('/').next().unwrap();
    let name = name.split('?').next().unwrap().to_string();
    diesel::sql_query(format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ))
    .execute(&mut app.db())
    .unwrap();
    let b = app.another_instance(Background::default());

    let ready = b.request(reqwest::Method::GET, "/readyz", None, None).await;
    ready.problem(503);
    assert!(ready.header("retry-after").is_some());
    let p = &s.patients[0];
    let check_in = CheckIn::new(&p.treatment, s.performed_at, json!({"redness": 1}));
    let refused = b.check_in(&p.token, &check_in).await;
    refused.problem(503);
    assert!(refused.header("retry-after").is_some());
    // A read of patient data too: its audit record can't be written.
    let read = b
        .get(&format!("/v1/patients/{}/recovery", p.id), &s.clinician)
        .await;
    read.problem(503);
}
