//! Several instances of the service on one database, as a clinic group runs them behind a load
//! balancer: each keeps its own read model, which must show what any instance stored on the next
//! request, and the background jobs run once across them.

use std::time::Duration;

use aftercare::startup::Background;
use chrono::Duration as Days;
use serde_json::{Value, json};

use crate::helpers::*;

/// The recovery views (and the dashboard built on them) a clinician reads.
fn view_paths(s: &Scenario) -> Vec<String> {
    let mut paths = vec![
        format!("/v1/protocols/{}/recovery", s.protocol),
        "/v1/dashboard".to_string(),
    ];
    paths.extend(
        s.patients
            .iter()
            .map(|p| format!("/v1/patients/{}/recovery", p.id)),
    );
    paths
}

async fn views(app: &TestApp, s: &Scenario) -> Vec<Value> {
    let mut got = vec![];
    for path in view_paths(s) {
        got.push(app.get(&path, &s.clinician).await.ok(200).clone());
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_through_either_instance_are_in_both_views_on_the_next_request() {
    let a = spawn_app().await;
    let b = a.another_instance(Background::default());
    let s = a.scenario("Twin Clinic").await;
    // Both instances have read the (empty) views, so each holds a read model to keep up to date.
    assert_eq!(views(&a, &s).await, views(&b, &s).await);
    for i in 0..12i64 {
        let (server, p) = if i % 2 == 0 {
            (&a, &s.patients[0])
        } else {
            (&b, &s.patients[1])
        };
        let scores = json!({"redness": (i % 4), "swelling": (i % 3), "pain": (i % 2)});
        let at = s.performed_at + Days::hours(i * 3 + 1);
        server
            .check_in(&p.token, &CheckIn::new(&p.treatment, at, scores))
            .await
            .ok(201);
        if i % 3 == 2 {
            // A third instance loads everything from the raw rows: the recomputation.
            let fresh = a.another_instance(Background::default());
            let want = views(&fresh, &s).await;
            assert_eq!(
                views(&a, &s).await,
                want,
                "instance a after {} posts",
                i + 1
            );
            assert_eq!(
                views(&b, &s).await,
                want,
                "instance b after {} posts",
                i + 1
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_missed_check_ins_job_raises_each_alert_once_across_instances() {
    // Both instances run the job every 50 ms, so their runs overlap again and again.
    let jobs = Background {
        job_interval: Some(Duration::from_millis(50)),
        ..Background::default()
    };
    let a = spawn_app_with(Default::default(), jobs.clone()).await;
    let _b = a.another_instance(jobs.clone());
    let _c = a.another_instance(jobs);
    // Two treatments of three days ago without a check-in: days 0, 1 and 2 missed.
    let s = a.scenario("Twin Clinic").await;
    let at = chrono::Utc::now() - chrono::Duration::days(3);
    let mut treatments = vec![];
    for p in &s.patients {
        treatments.push(a.treatment(&s.clinician, &p.id, &s.protocol, at).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let queue = a.get("/v1/alerts?limit=200", &s.clinician).await;
    let items = queue.ok(200)["items"].as_array().unwrap().clone();
    for t in &treatments {
        let alerts: Vec<&Value> = items
            .iter()
            .filter(|x| x["treatment_id"] == t.as_str())
            .collect();
        assert_eq!(alerts.len(), 1, "one alert for the treatment: {alerts:#?}");
        assert_eq!(alerts[0]["rule"], "missed_check_ins");
        assert_eq!(alerts[0]["evidence_count"], 1, "{:#}", alerts[0]);
    }
}
