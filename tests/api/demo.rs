//! `aftercare demo` and Aftercare's own PostgreSQL, as a newcomer runs them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aftercare::local::postgres::LocalPostgres;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::helpers::*;

/// Starts `aftercare demo` on the database; the child and the base URL it printed.
fn start_demo(db_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .arg("demo")
        .env("DATABASE_URL", db_url)
        .env("AFTERCARE_ADDR", "127.0.0.1:0")
        .env_remove("AFTERCARE_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aftercare demo");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines().map_while(Result::ok) {
        if let Some(url) = line.trim().strip_prefix("Dashboard:") {
            let base = url.trim().trim_end_matches("/dashboard").to_string();
            return (child, base);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the demo never said where it serves");
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Value {
    let body = json!({"email": email, "password": "aftercare-demo"});
    let res = client
        .post(format!("{base}/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let res = client.get(url).bearer_auth(token).send().await.unwrap();
    res.json().await.unwrap()
}

async fn all(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Vec<Value> {
    let mut items = vec![];
    let mut cursor = String::new();
    loop {
        let join = if path.contains('?') { '&' } else { '?' };
        let page = get(
            client,
            &format!("{base}{path}{join}limit=200{cursor}"),
            token,
        )
        .await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return items,
        }
    }
}

/// The clinic's Bulk Data export, as a standard client runs it: kick-off, polling, every file.
async fn bulk_export(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let kick_off = client
        .get(format!("{base}/fhir/R4/Patient/$export"))
        .bearer_auth(token)
        .header("Prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(kick_off.status(), 202);
    let status = kick_off.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_string();
    let mut manifest = Value::Null;
    for _ in 0..600 {
        let res = client.get(&status).bearer_auth(token).send().await.unwrap();
        let code = res.status();
        if code == 200 {
            manifest = res.json().await.unwrap();
            break;
        }
        assert_eq!(code, 202, "{}", res.text().await.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut resources = vec![];
    for file in manifest["output"].as_array().expect("the export finished") {
        let url = file["url"].as_str().unwrap();
        let text = client.get(url).bearer_auth(token).send().await.unwrap();
        let text = text.text().await.unwrap();
        resources.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    resources
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_clinic_is_made_once_with_recoveries_and_alerts_and_exports_valid_fhir() {
    let (db_name, db_url) = tokio::task::spawn_blocking(fresh_database).await.unwrap();
    let url = db_url.clone();
    let (child, base) = tokio::task::spawn_blocking(move || start_demo(&url))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let login = sign_in(&client, &base, "clinician@demo.aftercare.test").await;
    let token = login["access_token"].as_str().unwrap().to_string();
    let patients = all(&client, &base, &token, "/v1/patients").await;
    assert_eq!(patients.len(), 300);
    assert!(
        patients.iter().all(|p| p["display_name"].is_string()),
        "every patient has a name"
    );
    // Some patients wrote a note that is waiting on the worklist.
    let work = get(&client, &format!("{base}/v1/worklist"), &token).await;
    let notes: usize = work["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unread_notes"].as_array().unwrap().len())
        .sum();
    assert!(notes > 0, "{work:#}");
    // Weeks-old notes have been read: the worklist holds this week's.
    let now = chrono::Utc::now();
    for card in work["cards"].as_array().unwrap() {
        for note in card["unread_notes"].as_array().unwrap() {
            let at: chrono::DateTime<chrono::Utc> =
                note["recorded_at"].as_str().unwrap().parse().unwrap();
            assert!(now - at < chrono::Duration::days(4), "{note}");
        }
    }
    let protocols = all(&client, &base, &token, "/v1/protocols").await;
    let names: Vec<&str> = protocols
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let alerts = all(&client, &base, &token, "/v1/alerts").await;
    assert!(alerts.len() > 10);
    assert_eq!(alerts[0]["level"], "urgent", "urgent first");
    let treatments_of = |rule: Option<&str>| {
        alerts
            .iter()
            .filter(|a| rule.is_none_or(|r| a["rule"] == r))
            .map(|a| a["treatment_id"].as_str().unwrap().to_string())
            .collect::<std::collections::HashSet<String>>()
            .len()
    };
    let (alerted, missed) = (treatments_of(None), treatments_of(Some("missed_check_ins")));
    // Handled as a clinic would: some alerts led to an action, some needed none, a few are open.
    let burden = get(&client, &format!("{base}/v1/alerts/burden"), &token).await;
    let all_rules = &burden["all"];
    assert!(
        all_rules["led_to_action"].as_u64().unwrap() > 0,
        "{burden:#}"
    );
    assert!(all_rules["no_action"].as_u64().unwrap() > 0, "{burden:#}");
    assert!(
        all_rules["resolved"].as_u64() < all_rules["alerts"].as_u64(),
        "{burden:#}"
    );
    let dashboard = get(&client, &format!("{base}/v1/dashboard"), &token).await;
    assert!(
        dashboard["active_treatments"].as_i64().unwrap() > 20,
        "some are recovering now"
    );
    // "Slower than usual" names the same treatments in the dashboard's card, the patient list's
    // rows and the alerts: every treatment slower now has its alert (open, or handled by a
    // clinician, never withdrawn), and no open alert in follow-up names one that is not.
    let ids = |v: &Value| -> std::collections::BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["treatment_id"].as_str().unwrap().to_string())
            .collect()
    };
    let card = ids(&dashboard["slower_than_usual"]);
    let rows = all(&client, &base, &token, "/v1/patients?slower=true").await;
    let rows = ids(&json!(
        rows.iter()
            .map(|p| &p["latest_treatment"])
            .collect::<Vec<_>>()
    ));
    assert!(!card.is_empty());
    assert_eq!(card, rows);
    let peers: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule"] == "slower_than_peers")
        .collect();
    let raised = ids(&json!(
        peers
            .iter()
            .filter(|a| a["history"].as_array().unwrap().last().unwrap()["event"] != "withdrawn")
            .collect::<Vec<_>>()
    ));
    assert!(card.is_subset(&raised), "{card:?} {raised:?}");
    let in_follow_up = all(&client, &base, &token, "/v1/patients?in_follow_up=true").await;
    let in_follow_up = ids(&json!(
        in_follow_up
            .iter()
            .map(|p| &p["latest_treatment"])
            .collect::<Vec<_>>()
    ));
    let open = ids(&json!(
        peers
            .iter()
            .filter(|a| a["status"] == "open")
            .collect::<Vec<_>>()
    ));
    let open_now: std::collections::BTreeSet<String> =
        open.intersection(&in_follow_up).cloned().collect();
    assert!(open_now.is_subset(&card), "{open_now:?} {card:?}");
    let protocol = protocols[0]["id"].as_str().unwrap();
    let recovery = get(
        &client,
        &format!("{base}/v1/protocols/{protocol}/recovery"),
        &token,
    )
    .await;
    assert!(recovery["treatments"].as_i64().unwrap() > 50);
    tokio::task::spawn_blocking(move || stop(child))
        .await
        .unwrap();

    // Again: the same clinic, not a second one.
    let url = db_url.clone();
    let (child, base) = tokio::task::spawn_blocking(move || start_demo(&url))
        .await
        .unwrap();
    let login = sign_in(&client, &base, "admin@demo.aftercare.test").await;
    let token = login["access_token"].as_str().unwrap();
    assert_eq!(all(&client, &base, token, "/v1/patients").await.len(), 300);
    let exported = bulk_export(&client, &base, token).await;
    let patients = exported.iter().filter(|r| r["resourceType"] == "Patient");
    assert_eq!(patients.count(), 300);
    let treatments = exported
        .iter()
        .filter(|r| r["resourceType"] == "Procedure")
        .count();
    // Check-ins at the hours people answer, and the infections recorded as complications.
    let hours: Vec<u32> = exported
        .iter()
        .filter(|r| r["resourceType"] == "QuestionnaireResponse")
        .map(|r| {
            let at: chrono::DateTime<chrono::Utc> =
                r["authored"].as_str().unwrap().parse().unwrap();
            chrono::Timelike::hour(&at.with_timezone(&chrono_tz::Europe::Berlin))
        })
        .collect();
    assert!(hours.iter().all(|h| (7..23).contains(h)), "{hours:?}");
    assert!(
        exported.iter().any(|r| r["resourceType"] == "AdverseEvent"),
        "a complication for an infection"
    );
    // Some patients sent photos (drawn by the demo), exported as Media.
    let media = exported.iter().filter(|r| r["resourceType"] == "Media");
    assert!(media.count() >= 5, "the demo's photos");
    assert!(
        alerted * 100 <= 22 * treatments,
        "{alerted} of {treatments} treatments alerted"
    );
    assert!(
        missed * 100 <= 5 * treatments,
        "{missed} of {treatments} by missed_check_ins"
    );
    // Its codes checked against the CodeSystems the demo clinic publishes.
    let codes = get(&client, &format!("{base}/fhir/R4/CodeSystem"), token).await;
    let codes: Vec<Value> = codes["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect();
    crate::fhir::assert_valid_with(&exported, &codes).await;
    tokio::task::spawn_blocking(move || stop(child))
        .await
        .unwrap();
    drop_database(&db_name);
}

#[test]
fn aftercare_starts_its_own_postgresql_and_stops_it() {
    let dir = aftercare::local::postgres::data_dir()
        .unwrap()
        .join(format!("test-local-{}", uuid::Uuid::new_v4().simple()));
    let pg = LocalPostgres::start(&dir).unwrap();
    let url = pg.database("clinic").unwrap();
    assert!(
        url.contains("%2F"),
        "a Unix socket in the data folder: {url}"
    );
    let mut conn = PgConnection::establish(&url).unwrap();
    diesel::sql_query("SELECT 1").execute(&mut conn).unwrap();
    drop(conn);
    drop(pg);
    assert!(
        PgConnection::establish(&url).is_err(),
        "stopped with its guard"
    );
    // The data stays: started again, the database is there.
    let pg = LocalPostgres::start(&dir).unwrap();
    PgConnection::establish(&pg.url("clinic")).unwrap();
    drop(pg);
    std::thread::sleep(Duration::from_millis(100));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("lock"));
}
