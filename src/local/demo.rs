//! The demo clinic: three protocols, a clinician and an admin, and about 300 patients whose
//! treatments and daily check-ins follow `synthetic`'s trajectories, dated so that some are
//! recovering right now. The patients are added through the public API, as a clinic and its
//! patients' phones would, so their check-ins raise the alerts they would; one in 36 sends the
//! photos `demo_photos` draws, through the same upload (re-encoded, stored, with consent).

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use diesel::PgConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::people::StaffRole;
use crate::local::demo_photos::{self, Candidate};
use crate::local::synthetic::{Course, Kind, PROTOCOLS, SCHEDULE};

pub const CLINIC: &str = "Aftercare Demo Clinic";
pub const ADMIN: &str = "admin@demo.aftercare.test";
pub const CLINICIAN: &str = "clinician@demo.aftercare.test";
/// Demo only: the service refuses passwords this easy everywhere else.
pub const PASSWORD: &str = "aftercare-demo";
pub const PATIENTS: usize = 300;

const FIRST_NAMES: [&str; 24] = [
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hannah", "Ida", "Jonas", "Katrin",
    "Leon", "Maria", "Nina", "Oskar", "Paula", "Rosa", "Sophie", "Tobias", "Ute", "Vera", "Yusuf",
    "Zeynep", "Lukas",
];
const LAST_NAMES: [&str; 20] = [
    "Bauer", "Becker", "Fischer", "Hoffmann", "Kaya", "Keller", "Klein", "Koch", "Lang", "Meyer",
    "Müller", "Neumann", "Novak", "Richter", "Schmidt", "Schulz", "Wagner", "Weber", "Wolf",
    "Yilmaz",
];

/// What patients write in the note now and then.
const NOTES: [&str; 8] = [
    "A bit tight in the morning, better after moisturiser.",
    "Small yellow crust by my chin since this morning - is that normal?",
    "Slept badly, the cheeks felt warm.",
    "Peeling around the nose.",
    "Used the sunscreen all day.",
    "Itchy in the evening, tried not to scratch.",
    "Looks much better today!",
    "Is it OK to wear makeup tomorrow? I have a wedding.",
];

/// A time in the clinic's opening hours (9:00 to 18:00, Berlin) on the day of `day`.
fn in_clinic_hours(
    rng: &mut impl Rng,
    day: chrono::DateTime<Utc>,
) -> Option<chrono::DateTime<Utc>> {
    let tz = chrono_tz::Europe::Berlin;
    let time = day.with_timezone(&tz).date_naive().and_hms_opt(
        rng.random_range(9..18),
        rng.random_range(0..60),
        0,
    )?;
    Some(time.and_local_timezone(tz).earliest()?.with_timezone(&Utc))
}

/// The local time, 7:00 to 23:00, morning or evening, at which a patient answers on the `day` after
/// `performed_at`, in the clinic's time zone; None on the treatment day before they are home.
fn answered_at(
    rng: &mut impl Rng,
    performed_at: chrono::DateTime<Utc>,
    day: i64,
) -> Option<chrono::DateTime<Utc>> {
    let tz = chrono_tz::Europe::Berlin;
    let date = (performed_at.with_timezone(&tz) + Duration::days(day)).date_naive();
    let hour = if rng.random_bool(0.5) {
        rng.random_range(7..11)
    } else {
        rng.random_range(18..23)
    };
    let time = date.and_hms_opt(hour, rng.random_range(0..60), 0)?;
    let at = time.and_local_timezone(tz).earliest()?.with_timezone(&Utc);
    // On the treatment day, only once home from the treatment.
    (at > performed_at + Duration::minutes(90)).then_some(at)
}

/// The demo's VAPID key for Web Push: made on the first run and kept in the data directory (only
/// its owner may read it), so that the phones subscribed in one run are reached in the next.
pub fn vapid() -> anyhow::Result<crate::domain::web_push::Vapid> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let subject = format!("mailto:{ADMIN}");
    let path = crate::local::postgres::data_dir()?.join("demo-vapid-key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return crate::domain::web_push::Vapid::new(key.trim(), &subject)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let vapid = crate::domain::web_push::Vapid::generate(&subject);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{}", vapid.private_key()))
        .with_context(|| format!("keeping the demo's VAPID key in {}", path.display()))?;
    Ok(vapid)
}

/// Creates the demo clinic with its admin and clinician, unless it exists; true if it created it.
pub fn create_clinic(conn: &mut PgConnection) -> anyhow::Result<bool> {
    if crate::db::staff::find_by_email(conn, ADMIN)?.is_some() {
        return Ok(false);
    }
    let clinic = crate::db::clinics::Clinic {
        id: crate::domain::ids::ClinicId::new_v4(),
        name: CLINIC.into(),
        timezone: "Europe/Berlin".into(),
        created_at: Utc::now(),
        // A made-up number, for the app to show.
        contact_phone: Some("+4930234567890".into()),
        reminder_hour: crate::domain::clinic::DEFAULT_REMINDER_HOUR,
        code: crate::domain::clinic::ClinicCode::generate().to_string(),
    };
    let hash = crate::web::auth::hash_password(PASSWORD)?;
    let staff = |email: &str, role, name: &str| crate::db::staff::NewStaff {
        id: crate::domain::ids::StaffId::new_v4(),
        email: email.into(),
        password_hash: hash.clone(),
        role,
        name: name.into(),
    };
    let (admin, clinician) = (
        staff(ADMIN, StaffRole::Admin, "Demo Admin"),
        staff(CLINICIAN, StaffRole::Clinician, "Dr. Demo"),
    );
    let clinic = crate::db::clinics::create_with_admin(conn, &clinic, &admin)?;
    let tenant = crate::db::Tenant::new(clinic.id);
    crate::db::staff::insert(conn, tenant, &clinician)?;
    Ok(true)
}

/// Adds the protocols, patients, treatments and check-ins through the API at `base`, unless they
/// are there already.
pub async fn populate(base: &str) -> anyhow::Result<()> {
    let api = Api {
        base: base.trim_end_matches('/').to_string(),
        client: reqwest::Client::new(),
    };
    let staff = api
        .call(
            "POST",
            "/v1/auth/login",
            None,
            json!({"email": CLINICIAN, "password": PASSWORD}),
        )
        .await?;
    let staff = token(&staff)?;
    // Whatever an earlier, interrupted run added stays; the rest is added now.
    let existing = api.all(&staff, "/v1/protocols").await?;
    let mut protocols = vec![];
    for model in &PROTOCOLS {
        if let Some(p) = existing.iter().find(|p| p["name"] == model.name) {
            protocols.push((model, id(p)?));
            continue;
        }
        let body = json!({"name": model.name, "procedure": model.procedure, "needle_depth_mm": model.depth,
                          "areas": ["face"], "sessions_planned": 3, "interval_days": 35,
                          "check_in_days": SCHEDULE,
                          "aftercare_instructions": "Gentle cleanser only for 24 hours; sunscreen every day; no makeup for 24 hours."});
        let p = api
            .call("POST", "/v1/protocols", Some(&staff), body)
            .await?;
        protocols.push((model, id(&p)?));
    }
    let first = api.all(&staff, "/v1/patients").await?.len() + 1;
    let now = Utc::now();
    let no = json!({"active_acne": false, "skin_infection": false, "eczema_psoriasis": false,
                    "keloid_history": false, "bleeding_disorder": false, "pregnancy": false,
                    "skin_allergy": false, "diabetes": false});
    // What the photos cost the demo's run, for its log.
    let (mut photos, mut photo_time) = (0, std::time::Duration::ZERO);
    for n in first..=PATIENTS {
        let mut rng = StdRng::seed_from_u64(20261121 + n as u64);
        let fitzpatrick = crate::local::synthetic::fitzpatrick(&mut rng);
        let name = format!(
            "{} {}",
            FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
            LAST_NAMES[rng.random_range(0..LAST_NAMES.len())]
        );
        let body = json!({"external_ref": format!("DEMO-{n:04}"), "display_name": name,
                          "fitzpatrick_type": fitzpatrick,
                          "birth_year": rng.random_range(1960..2004), "concerns": ["acne_scars"]});
        let patient = id(&api.call("POST", "/v1/patients", Some(&staff), body).await?)?;
        let code = api
            .call(
                "POST",
                &format!("/v1/patients/{patient}/enrollment-codes"),
                Some(&staff),
                json!(null),
            )
            .await?;
        let code = code["code"].as_str().context("an enrollment code")?;
        let phone = api
            .call("POST", "/v1/auth/enroll", None, json!({"code": code}))
            .await?;
        let phone = token(&phone)?;
        let (model, protocol) = &protocols[rng.random_range(0..protocols.len())];
        // The latest session within the last seven weeks, so some are in their first days now;
        // a third of the patients had one before it.
        let days_ago = Duration::days(rng.random_range(0..49));
        let latest = in_clinic_hours(&mut rng, now - days_ago)
            .filter(|&t| t < now - Duration::minutes(30))
            .unwrap_or(now - Duration::days(1));
        let sessions = if rng.random_bool(0.33) {
            vec![latest - Duration::days(35), latest]
        } else {
            vec![latest]
        };
        let last = sessions.last().copied();
        for performed_at in sessions {
            let body = json!({"protocol_id": protocol, "performed_at": performed_at, "contraindications": no});
            let treatment = api
                .call(
                    "POST",
                    &format!("/v1/patients/{patient}/treatments"),
                    Some(&staff),
                    body,
                )
                .await?;
            let treatment = id(&treatment)?;
            let course = Course::draw(&mut rng, model, fitzpatrick);
            let mut check_ins = vec![];
            let mut candidates = vec![];
            // Days without a check-in in a row: after two, the app's reminder brings most back.
            let mut missed = 0;
            for day in SCHEDULE {
                let mut times = course.check_ins_on(&mut rng, day);
                if times == 0 && missed >= 2 && rng.random_bool(0.7) {
                    times = 1;
                }
                missed = if times == 0 { missed + 1 } else { 0 };
                for _ in 0..times {
                    let Some(at) = answered_at(&mut rng, performed_at, day) else {
                        continue;
                    };
                    if at > now {
                        continue;
                    }
                    let scores: serde_json::Map<String, Value> = course
                        .scores(&mut rng, day)
                        .into_iter()
                        .map(|(c, s)| (c.to_string(), json!(s)))
                        .collect();
                    let check_in_id = Uuid::new_v4();
                    candidates.push(Candidate {
                        day,
                        id: check_in_id,
                        redness: scores.get("redness").and_then(Value::as_i64),
                    });
                    let mut check_in = json!({"id": check_in_id, "treatment_id": treatment, "recorded_at": at, "scores": scores});
                    if rng.random_bool(0.06) {
                        check_in["note"] = json!(NOTES[rng.random_range(0..NOTES.len())]);
                    }
                    check_ins.push(check_in);
                }
            }
            if !check_ins.is_empty() {
                api.call(
                    "POST",
                    "/v1/check-ins/batch",
                    Some(&phone),
                    json!({"check_ins": check_ins}),
                )
                .await?;
            }
            // One patient in 36 sends photos of their latest treatment's days.
            if n % demo_photos::EVERY == 3 && Some(performed_at) == last {
                let started = std::time::Instant::now();
                for (k, c) in demo_photos::chosen(&candidates).into_iter().enumerate() {
                    let redness = demo_photos::intensity(c.day, c.redness);
                    let image = demo_photos::draw(n as u64, fitzpatrick, redness);
                    let jpeg = demo_photos::jpeg(&image)?;
                    // Some give the clinic their before-and-after consent as well.
                    let before_after = n % 72 == 3 && k != 1;
                    let path = format!(
                        "/v1/check-ins/{}/photos?clinical_use=true&before_after={before_after}",
                        c.id
                    );
                    api.upload(&path, &phone, jpeg).await?;
                    photos += 1;
                }
                photo_time += started.elapsed();
            }
            // The clinic records an infection as a complication once it has seen the patient.
            let onset = performed_at + Duration::days(4);
            if course.kind == Kind::Infected && onset + Duration::days(1) < now {
                let outcome = if onset + Duration::days(10) < now {
                    "resolved"
                } else {
                    "recovering"
                };
                let body = json!({"term": "Skin infection", "grade": 2, "serious": false,
                                  "onset_date": onset.date_naive(), "outcome": outcome,
                                  "notes": "Topical antibiotic; reviewed in clinic."});
                api.call(
                    "POST",
                    &format!("/v1/treatments/{treatment}/adverse-events"),
                    Some(&staff),
                    body,
                )
                .await?;
            }
        }
        if n % 50 == 0 {
            tracing::info!(patients = n, "demo clinic: patients added");
        }
    }
    let seconds = photo_time.as_secs_f64();
    tracing::info!(photos, seconds, "demo clinic: photos drawn and sent");
    Ok(())
}

/// Handles the demo's older work the way a clinic would: an alert raised more than three days after
/// its treatment day is resolved, with what it led to (urgent ones with a call, a visit or a change
/// of treatment; the rest with a call or no action needed), but one in eight of those is still
/// open; a note more than three days old has been read.
pub async fn handle_old_work(base: &str) -> anyhow::Result<()> {
    let api = Api {
        base: base.trim_end_matches('/').to_string(),
        client: reqwest::Client::new(),
    };
    let login = json!({"email": CLINICIAN, "password": PASSWORD});
    let staff = api.call("POST", "/v1/auth/login", None, login).await?;
    let staff = token(&staff)?;
    let now = Utc::now();
    let mut alerts = api.all(&staff, "/v1/alerts?status=open").await?;
    alerts.extend(api.all(&staff, "/v1/alerts?status=acknowledged").await?);
    for alert in alerts {
        let id = id(&alert)?;
        let treatment = alert["treatment_id"].as_str().context("a treatment id")?;
        let treatment = api
            .call(
                "GET",
                &format!("/v1/treatments/{treatment}"),
                Some(&staff),
                json!(null),
            )
            .await?;
        let performed_at: chrono::DateTime<Utc> = treatment["performed_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .context("a treatment time")?;
        let day = alert["day"].as_i64().unwrap_or_default();
        // The alert's id, drawn at random, chooses what the clinic did, the same on every run.
        let pick = Uuid::parse_str(&id)?.as_bytes()[15] as usize;
        if performed_at + Duration::days(day + 3) > now || pick.is_multiple_of(8) {
            continue;
        }
        let (action, note) = match (alert["level"].as_str(), pick % 3) {
            (Some("urgent"), 0) => (
                "saw_patient",
                "Seen in clinic; cleaned, reviewed two days later.",
            ),
            (Some("urgent"), 1) => (
                "changed_treatment",
                "Started a topical antibiotic; next session postponed.",
            ),
            (Some("urgent"), _) => (
                "contacted_patient",
                "Called: advice given, photo reviewed, settling.",
            ),
            (_, 0) => (
                "no_action",
                "Reviewed: within what we expect, no action needed.",
            ),
            _ => (
                "contacted_patient",
                "Called the patient: reassured, advice on aftercare.",
            ),
        };
        api.call(
            "POST",
            &format!("/v1/alerts/{id}/resolve"),
            Some(&staff),
            json!({"note": note, "action": action}),
        )
        .await?;
    }
    let work = api
        .call("GET", "/v1/worklist", Some(&staff), json!(null))
        .await?;
    let cards = work["cards"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for note in cards
        .iter()
        .flat_map(|c| c["unread_notes"].as_array().into_iter().flatten())
    {
        let written: chrono::DateTime<Utc> = note["recorded_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .context("a note's time")?;
        if written + Duration::days(3) < now {
            let id = note["check_in_id"].as_str().context("a check-in id")?;
            let path = format!("/v1/check-ins/{id}/note-read");
            api.call("POST", &path, Some(&staff), json!(null)).await?;
        }
    }
    Ok(())
}

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    /// Every item of a list, page by page.
    async fn all(&self, token: &str, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page_path = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let page = self
                .call("GET", &page_path, Some(token), Value::Null)
                .await?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return Ok(items),
            }
        }
    }

    /// Sends a photo, as the patient's phone does.
    async fn upload(&self, path: &str, token: &str, jpeg: Vec<u8>) -> anyhow::Result<Value> {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
            .body(jpeg);
        send(path, req).await
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&body)?);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        send(path, req).await
    }
}

/// Sends a request to the demo's server; its JSON answer, or an error naming the path and status.
async fn send(path: &str, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let res = req
        .send()
        .await
        .with_context(|| format!("calling {path}"))?;
    let status = res.status();
    let bytes = res.bytes().await?;
    if !status.is_success() {
        bail!(
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes)?)
}

fn id(v: &Value) -> anyhow::Result<String> {
    Ok(v["id"].as_str().context("an id in the answer")?.to_string())
}

fn token(v: &Value) -> anyhow::Result<String> {
    Ok(v["access_token"]
        .as_str()
        .context("an access token")?
        .to_string())
}
