//! Backups that restore: a database with check-ins, alerts and an audit trail, dumped with
//! `pg_dump` and restored into a fresh one, serves the same recovery views and alert queue, and its
//! audit chains verify.

use std::path::PathBuf;
use std::process::Command;

use aftercare::startup::Background;
use chrono::Duration as Days;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

fn client_program(name: &str) -> PathBuf {
    aftercare::local::postgres::find_bin()
        .map(|dir| dir.join(name))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(client_program(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a clinician reads: the protocol's and each patient's recovery, and the alert queue.
async fn reads(app: &TestApp, s: &Scenario) -> Vec<Value> {
    let mut paths = vec![
        format!("/v1/protocols/{}/recovery", s.protocol),
        "/v1/alerts?limit=200".to_string(),
    ];
    for p in &s.patients {
        paths.push(format!("/v1/patients/{}/recovery", p.id));
    }
    let mut got = vec![];
    for path in paths {
        got.push(app.get(&path, &s.clinician).await.ok(200).clone());
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_dump_serves_the_same_views_and_its_audit_trail_verifies() {
    let app = spawn_app().await;
    let s = app.scenario("Backup Clinic").await;
    for (n, p) in s.patients.iter().enumerate() {
        for day in 0..3i64 {
            // The first patient reports signs of infection on day 1: an urgent alert.
            let scores = if n == 0 && day == 1 {
                json!({"redness": 2, "infection": 1})
            } else {
                json!({"redness": 3 - day, "swelling": 1, "pain": n})
            };
            let at = s.performed_at + Days::hours(day * 16 + 1);
            let check_in = CheckIn::new(&p.treatment, at, scores);
            app.check_in(&p.token, &check_in).await.ok(201);
        }
    }
    let before = reads(&app, &s).await;
    let alerts = before[1]["items"].as_array().unwrap();
    assert!(alerts.iter().any(|a| a["rule"] == "infection_signs"));

    // Seal the audit trail, as the job does every second, then dump and restore.
    let (name, url) = tokio::task::spawn_blocking(empty_database).await.unwrap();
    let dump = std::env::temp_dir().join(format!("{name}.dump"));
    let (from, to) = (app.db_url.clone(), url.clone());
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&from).unwrap();
        while aftercare::workers::audit_sealing::seal(&mut conn, 1000).unwrap() > 0 {}
        let file = dump.to_str().unwrap();
        run("pg_dump", &["--format=custom", "--file", file, &from]);
        run(
            "pg_restore",
            &["--no-owner", "--exit-on-error", "--dbname", &to, file],
        );
        std::fs::remove_file(&dump).unwrap();
    })
    .await
    .unwrap();

    // The operator's check of a restored database.
    let verify = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["admin", "verify-audit"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify-audit: {} {}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    // A server on the restored database, which loads its read model from the restored rows.
    let restored = serve(
        &url,
        url.clone(),
        Some(name),
        Default::default(),
        Background::default(),
    );
    assert_eq!(reads(&restored, &s).await, before);
}
