//! The read model at a generated size: the benchmark's own generator (`bench/generate.rs`) writes
//! two years of a clinic group, the test loads it as `bench/run.sh` does (with psql), and every
//! protocol's view, whole and filtered, and the dashboard equal a computation from the raw scores.

#[path = "../../bench/generate.rs"]
#[allow(dead_code)] // its `main` is the benchmark's
mod generate;

use std::collections::BTreeSet;

use aftercare::domain::recovery::{adherence, slower_now, usual_resolution_day};
use aftercare::local::synthetic::CODES;
use chrono::Days;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;
use crate::recovery::{Raw, RawTreatment, day_scores, first_difference};

/// About 1,500 treatments of three protocols; a few dozen still in follow-up today.
const SCORES: u64 = 200_000;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[tokio::test]
async fn a_generated_clinic_group_reads_as_computed_from_its_raw_scores() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("aftercare-generated-{}", Uuid::new_v4()));
    let counts = generate::generate(SCORES, &dir, 7);
    let loaded = std::process::Command::new("psql")
        .arg(&app.db_url)
        .args(["-q", "-f"])
        .arg(dir.join("load.sql"))
        .status()
        .expect("psql, PostgreSQL's client, runs");
    std::fs::remove_dir_all(&dir).expect("remove the generated files");
    assert!(loaded.success(), "psql could not load {counts}");
    let token = app.login(generate::CLINICIAN, generate::PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = Raw::load(&app);
    let protocols: BTreeSet<Uuid> = raw.treatments.iter().map(|t| t.protocol_id).collect();
    assert_eq!(protocols.len(), 3, "{counts}");

    type Keep = Box<dyn Fn(&RawTreatment) -> bool>;
    for &protocol in &protocols {
        let filters: [(&str, Keep); 3] = [
            ("", Box::new(|_| true)),
            (
                "?fitzpatrick_type=5",
                Box::new(|t| t.fitzpatrick_type == Some(5)),
            ),
            ("?session_number=2", Box::new(|t| t.session_number == 2)),
        ];
        for (query, keep) in filters {
            let view = app
                .get(&format!("/v1/protocols/{protocol}/recovery{query}"), &token)
                .await;
            let expected = raw.view(protocol, keep);
            if view.ok(200) != &expected {
                let diff = first_difference(&view.body, &expected, String::new());
                panic!("{protocol}{query} ({counts}): the view differs at {diff:?}");
            }
        }
    }

    // The dashboard, from the same raw scores: every protocol checks in on days 0-14, 21 and 28.
    let schedule: Vec<i32> = (0..=14).chain([21, 28]).collect();
    let (mut active, mut due_today, mut checked_in) = (0, 0, 0);
    let (mut done, mut due) = (0u32, 0u32);
    let mut slower = BTreeSet::new();
    for &protocol in &protocols {
        let usual: Vec<Option<u16>> = raw
            .cohort_symptoms(protocol)
            .iter()
            .map(|s| usual_resolution_day(&s.events))
            .collect();
        for t in raw.treatments.iter().filter(|t| t.protocol_id == protocol) {
            let days = raw.checked_in(t.id);
            let week_start = t.today.checked_sub_days(Days::new(6));
            let (d, n) = adherence(
                t.performed_on,
                &schedule,
                |day| days.contains(&day),
                t.today,
                week_start,
            );
            (done, due) = (done + d, due + n);
            let day = (t.today - t.performed_on).num_days();
            if !(0..=28).contains(&day) {
                continue;
            }
            active += 1;
            if schedule.contains(&(day as i32)) {
                due_today += 1;
                checked_in += u32::from(days.contains(&(day as u16)));
            }
            let symptoms: Vec<&str> = CODES
                .iter()
                .zip(&usual)
                .filter(|(code, usual)| slower_now(&day_scores(&raw.series(t.id, code)), **usual))
                .map(|(code, _)| *code)
                .collect();
            if !symptoms.is_empty() {
                slower.insert(json!({"treatment_id": t.id, "symptoms": symptoms}).to_string());
            }
        }
    }
    let today: Count = diesel::sql_query(
        "SELECT count(*) FROM check_ins i JOIN clinics c ON c.id = i.clinic_id
          WHERE (i.recorded_at AT TIME ZONE c.timezone)::date = (now() AT TIME ZONE c.timezone)::date",
    )
    .get_result(&mut app.db())
    .unwrap();
    let dashboard = app.get("/v1/dashboard", &token).await;
    let dashboard = dashboard.ok(200);
    assert!(active > 10, "{active} treatments in follow-up ({counts})");
    assert_eq!(dashboard["active_treatments"], active);
    assert_eq!(dashboard["due_today"], due_today);
    assert_eq!(dashboard["due_today_checked_in"], checked_in);
    assert_eq!(dashboard["check_ins_today"], today.count);
    assert_eq!(
        dashboard["adherence_7d"],
        json!(f64::from(done) / f64::from(due))
    );
    let listed: BTreeSet<String> = dashboard["slower_than_usual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!({"treatment_id": s["treatment_id"], "symptoms": s["symptoms"]}).to_string())
        .collect();
    assert_eq!(listed, slower);
}
