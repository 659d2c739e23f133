use std::collections::{BTreeSet, HashMap};

use aftercare::domain::recovery::MIN_COHORT;
use aftercare::domain::recovery::{Course, DayScore, Histogram, adherence, course};
use aftercare::read_model::views::{patient_symptom, protocol_view};
use aftercare::read_model::{Cohort, SymptomCohort};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Int2, Int4, Nullable, Text, Uuid as SqlUuid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

use aftercare::local::synthetic::CODES;

#[derive(QueryableByName)]
struct RawScore {
    #[diesel(sql_type = SqlUuid)]
    treatment_id: Uuid,
    #[diesel(sql_type = Text)]
    symptom_code: String,
    #[diesel(sql_type = Int4)]
    day: i32,
    #[diesel(sql_type = Int2)]
    score: i16,
}

#[derive(QueryableByName)]
pub(crate) struct RawTreatment {
    #[diesel(sql_type = SqlUuid)]
    pub(crate) id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub(crate) protocol_id: Uuid,
    /// The treatment's date and today, in its clinic's time zone.
    #[diesel(sql_type = Date)]
    pub(crate) performed_on: NaiveDate,
    #[diesel(sql_type = Date)]
    pub(crate) today: NaiveDate,
    #[diesel(sql_type = Nullable<Int2>)]
    pub(crate) fitzpatrick_type: Option<i16>,
    #[diesel(sql_type = Int4)]
    pub(crate) session_number: i32,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    areas: Vec<Option<String>>,
}

/// The views computed from scratch: every raw score, straight from the database.
pub(crate) struct Raw {
    pub(crate) treatments: Vec<RawTreatment>,
    daily: HashMap<(Uuid, String), Vec<Option<u8>>>,
    /// Each treatment's days with a check-in.
    days: HashMap<Uuid, BTreeSet<u16>>,
}

impl Raw {
    pub(crate) fn load(app: &TestApp) -> Raw {
        let mut conn = app.db();
        let treatments = diesel::sql_query(
            "SELECT t.id, t.protocol_id, (t.performed_at AT TIME ZONE c.timezone)::date AS performed_on,
                    (now() AT TIME ZONE c.timezone)::date AS today,
                    p.fitzpatrick_type, t.session_number, t.areas
               FROM treatments t JOIN patients p ON p.id = t.patient_id JOIN clinics c ON c.id = t.clinic_id",
        )
        .load::<RawTreatment>(&mut conn)
        .unwrap();
        let mut daily: HashMap<(Uuid, String), Vec<Option<u8>>> = HashMap::new();
        let mut days: HashMap<Uuid, BTreeSet<u16>> = HashMap::new();
        for s in
            diesel::sql_query("SELECT treatment_id, symptom_code, day, score FROM check_in_scores")
                .load::<RawScore>(&mut conn)
                .unwrap()
        {
            let series = daily.entry((s.treatment_id, s.symptom_code)).or_default();
            days.entry(s.treatment_id).or_default().insert(s.day as u16);
            let day = s.day as usize;
            if series.len() <= day {
                series.resize(day + 1, None);
            }
            series[day] = Some(series[day].map_or(s.score as u8, |v| v.max(s.score as u8)));
        }
        Raw {
            treatments,
            daily,
            days,
        }
    }

    pub(crate) fn series(&self, treatment: Uuid, code: &str) -> Vec<Option<u8>> {
        self.daily
            .get(&(treatment, code.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn checked_in(&self, treatment: Uuid) -> BTreeSet<u16> {
        self.days.get(&treatment).cloned().unwrap_or_default()
    }

    pub(crate) fn view(&self, protocol: Uuid, keep: impl Fn(&RawTreatment) -> bool) -> Value {
        let last_day = 28u16;
        let schedule: Vec<i32> = (0..=14).chain([21, 28]).collect();
        let mut cohort = Cohort {
            treatments: 0,
            symptoms: CODES
                .iter()
                .map(|c| SymptomCohort {
                    code: c.to_string(),
                    days: vec![Histogram::default(); 29],
                    ..Default::default()
                })
                .collect(),
        };
        let (mut done, mut due) = (0u64, 0u64);
        for t in self
            .treatments
            .iter()
            .filter(|t| t.protocol_id == protocol && keep(t))
        {
            cohort.treatments += 1;
            let days = self.checked_in(t.id);
            let (d, n) = adherence(
                t.performed_on,
                &schedule,
                |day| days.contains(&day),
                t.today,
                None,
            );
            (done, due) = (done + u64::from(d), due + u64::from(n));
            for symptom in &mut cohort.symptoms {
                let series = self.series(t.id, &symptom.code);
                for (day, score) in series.iter().enumerate().take(29) {
                    if let Some(s) = score {
                        symptom.days[day].add(*s);
                    }
                }
                let c = course(&day_scores(&series));
                symptom.affected += u32::from(c != Course::Unaffected);
                symptom.events.add(c);
            }
        }
        let view = protocol_view(protocol, &cohort, (done, due), last_day, &[]);
        serde_json::to_value(view).unwrap()
    }
}

/// When a check-in `minutes` into day `day` of a treatment performed at `performed_at` is recorded.
fn on_day(performed_at: DateTime<Utc>, day: i64, minutes: i64) -> DateTime<Utc> {
    performed_at + Duration::days(day) + Duration::minutes(minutes)
}

struct Cohorts {
    clinician: String,
    protocols: [String; 2],
    treatments: Vec<(String, String, String)>, // (treatment, patient, patient token)
    performed_at: DateTime<Utc>,
}

/// A clinic (in UTC, so that days are whole UTC days) with two protocols and `n` treatments
/// spread over them, with varied skin types, sessions and areas.
async fn cohorts(app: &TestApp, n: usize) -> Cohorts {
    let clinic = app.clinic("Cohort", "UTC").await;
    let clinician = app.clinician(&clinic).await;
    let protocols = [
        app.protocol(&clinician, "A").await,
        app.protocol(&clinician, "B").await,
    ];
    // Performed at 01:00 UTC twelve days ago: day d runs from 00:00 to 24:00 UTC d days later.
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - Duration::days(12) + Duration::hours(1);
    let mut treatments = vec![];
    for i in 0..n {
        let body = json!({"external_ref": format!("P{i}"), "fitzpatrick_type": 1 + (i % 6)});
        let patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
        let protocol = &protocols[usize::from(i % 5 == 4)];
        let areas = if i % 3 == 0 {
            json!(["face", "neck"])
        } else {
            json!(["face"])
        };
        let body = json!({"protocol_id": protocol, "performed_at": performed_at, "areas": areas,
                          "session_number": 1 + (i % 2), "contraindications": no_contraindications()});
        let t = id_of(
            app.post(
                &format!("/v1/patients/{patient}/treatments"),
                &clinician,
                body,
            )
            .await
            .ok(201),
        );
        let (token, _) = app.enroll(&clinician, &patient).await;
        treatments.push((t, patient, token));
    }
    Cohorts {
        clinician,
        protocols,
        treatments,
        performed_at,
    }
}

/// Random recoveries: symptoms fading over the days, some relapsing, some never reported, with
/// several check-ins on some days.
fn random_check_ins(rng: &mut StdRng, c: &Cohorts) -> Vec<(usize, CheckIn)> {
    let mut posts = vec![];
    for (i, (treatment, _, _)) in c.treatments.iter().enumerate() {
        let start: Vec<u8> = CODES.iter().map(|_| rng.random_range(0..=4)).collect();
        for day in 0..=11i64 {
            if rng.random_bool(0.2) {
                continue; // a missed day
            }
            for _ in 0..rng.random_range(1..=2) {
                let mut scores = serde_json::Map::new();
                for (k, code) in CODES.iter().enumerate() {
                    if rng.random_bool(0.15) {
                        continue; // not rated this time
                    }
                    let max = if k >= 10 { 1 } else { 4 };
                    let fading = i64::from(start[k]) - day / 2 + rng.random_range(-1..=1);
                    scores.insert(code.to_string(), json!(fading.clamp(0, max)));
                }
                if scores.is_empty() {
                    continue;
                }
                let at = on_day(c.performed_at, day, rng.random_range(0..1200));
                posts.push((i, CheckIn::new(treatment, at, json!(scores))));
            }
        }
    }
    posts
}

async fn post_all(app: &TestApp, c: &Cohorts, posts: &[(usize, CheckIn)]) {
    // Half one at a time, half in batches per patient.
    for (n, (i, check_in)) in posts.iter().enumerate() {
        if n % 2 == 0 {
            app.check_in(&c.treatments[*i].2, check_in).await.ok(201);
        }
    }
    for (i, (_, _, token)) in c.treatments.iter().enumerate() {
        let mine: Vec<CheckIn> = posts
            .iter()
            .enumerate()
            .filter(|(n, (p, _))| n % 2 == 1 && *p == i)
            .map(|(_, (_, b))| b.clone())
            .collect();
        for chunk in mine.chunks(100) {
            let r = app.check_in_batch(token, chunk).await;
            assert!(
                r.ok(200)["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["status"] == 201)
            );
        }
    }
}

#[tokio::test]
async fn the_views_equal_a_computation_from_the_raw_check_ins() {
    let app = spawn_app().await;
    let c = cohorts(&app, 30).await;
    let mut rng = StdRng::seed_from_u64(20261121);
    let mut posts = random_check_ins(&mut rng, &c);
    // Out of order: shuffled, and split so that late check-ins change days already seen by a view.
    for i in (1..posts.len()).rev() {
        posts.swap(i, rng.random_range(0..=i));
    }
    let half = posts.len() / 2;
    let [a, b] = &c.protocols;
    let base = |p: &str| format!("/v1/protocols/{p}/recovery");
    let mut rounds = vec![&posts[..half], &posts[half..]];
    // A last round that only worsens days already reported: the day's worst score must rise.
    let worse: Vec<(usize, CheckIn)> = (0..c.treatments.len())
        .map(|i| {
            let at = on_day(c.performed_at, 3, 1300);
            let scores = json!({"redness": 4, "pain": 3});
            (i, CheckIn::new(&c.treatments[i].0, at, scores))
        })
        .collect();
    rounds.push(&worse);
    for (n, round) in rounds.into_iter().enumerate() {
        post_all(&app, &c, round).await;
        if n == 1 {
            // A skin type corrected after the fact moves the patient between filtered cohorts.
            let path = format!("/v1/patients/{}", c.treatments[2].1);
            app.patch(&path, &c.clinician, json!({"fitzpatrick_type": 3}))
                .await
                .ok(200);
        }
        let raw = Raw::load(&app);
        for (protocol, query, keep) in [
            (
                a,
                "",
                Box::new(|_: &RawTreatment| true) as Box<dyn Fn(&RawTreatment) -> bool>,
            ),
            (b, "", Box::new(|_: &RawTreatment| true)),
            (
                a,
                "?fitzpatrick_type=3",
                Box::new(|t: &RawTreatment| t.fitzpatrick_type == Some(3)),
            ),
            (
                a,
                "?area=neck&session_number=1",
                Box::new(|t: &RawTreatment| {
                    t.areas.contains(&Some("neck".into())) && t.session_number == 1
                }),
            ),
            (
                a,
                &format!(
                    "?from={}&to={}",
                    t_date(c.performed_at),
                    t_date(c.performed_at)
                ),
                Box::new(|_: &RawTreatment| true),
            ),
            (a, "?to=2001-01-01", Box::new(|_: &RawTreatment| false)),
        ] {
            let view = app
                .get(&format!("{}{query}", base(protocol)), &c.clinician)
                .await;
            let expected = raw.view(protocol.parse().unwrap(), keep);
            if view.ok(200) != &expected {
                let diff = first_difference(&view.body, &expected, String::new());
                panic!("{protocol}{query}: the view differs from the raw computation at {diff:?}");
            }
        }
        // Each patient's view against the raw cohort of their protocol.
        let cohort_a = raw.cohort_symptoms(a.parse().unwrap());
        let protocol_a = app.get(&format!("/v1/protocols/{a}"), &c.clinician).await;
        let last_day = protocol_a.ok(200)["check_in_days"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .max()
            .unwrap() as u16;
        for (treatment, patient, token) in c.treatments.iter().take(6) {
            let view = app
                .get(&format!("/v1/patients/{patient}/recovery"), token)
                .await;
            let view = view.ok(200);
            let t: Uuid = treatment.parse().unwrap();
            let is_a = raw
                .treatments
                .iter()
                .any(|r| r.id == t && r.protocol_id.to_string() == *a);
            let expected: Vec<Value> = CODES
                .iter()
                .enumerate()
                .filter_map(|(k, code)| {
                    let cohort = if is_a { Some(&cohort_a[k]) } else { None };
                    let in_follow_up = view["treatments"][0]["in_follow_up"] == json!(true);
                    patient_symptom(
                        code,
                        &day_scores(&raw.series(t, code)),
                        cohort,
                        last_day,
                        in_follow_up,
                    )
                })
                .map(|s| serde_json::to_value(s).unwrap())
                .collect();
            if is_a {
                assert_eq!(view["treatments"][0]["symptoms"], json!(expected));
            } else {
                assert_eq!(
                    view["treatments"][0]["symptoms"].as_array().unwrap().len(),
                    expected.len()
                );
            }
        }
    }
    // The cohort of protocol A is large enough for the patient view to compare against.
    let view = app
        .get(
            &format!("/v1/patients/{}/recovery", c.treatments[0].1),
            &c.clinician,
        )
        .await;
    let days = view.ok(200)["treatments"][0]["symptoms"][0]["days"]
        .as_array()
        .unwrap()
        .clone();
    assert!(days.iter().any(|d| d["cohort_p90"].is_number()), "{days:?}");
    const { assert!(MIN_COHORT <= 24) };
}

impl Raw {
    pub(crate) fn cohort_symptoms(&self, protocol: Uuid) -> Vec<SymptomCohort> {
        // The daily histograms of the protocol's whole cohort, from the raw series.
        CODES
            .iter()
            .map(|code| {
                let mut s = SymptomCohort {
                    code: code.to_string(),
                    days: vec![Histogram::default(); 29],
                    ..Default::default()
                };
                for t in self.treatments.iter().filter(|t| t.protocol_id == protocol) {
                    let series = self.series(t.id, code);
                    for (day, score) in series.iter().enumerate().take(29) {
                        if let Some(sc) = score {
                            s.days[day].add(*sc);
                        }
                    }
                    s.events.add(course(&day_scores(&series)));
                }
                s
            })
            .collect()
    }
}

fn t_date(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

#[tokio::test]
async fn a_small_cohort_reads_as_worked_out_by_hand() {
    let app = spawn_app().await;
    let c = cohorts(&app, 4).await; // treatments 0-3 all on protocol A (every fifth is B)
    let redness = |t: usize, day: i64, score: u8| {
        let at = on_day(c.performed_at, day, 60);
        (
            t,
            CheckIn::new(&c.treatments[t].0, at, json!({"redness": score})),
        )
    };
    // Redness by day:   t0: 2 1 0      -> resolved on day 2
    //                   t1: 3 2 1 1    -> censored at day 3
    //                   t2: 0 0        -> unaffected
    //                   t3: 1 (day 0) and, later the same day, 3 -> worst 3; 0 on day 1 -> resolved on day 1
    let posts = vec![
        redness(0, 0, 2),
        redness(0, 1, 1),
        redness(0, 2, 0),
        redness(1, 0, 3),
        redness(1, 1, 2),
        redness(1, 2, 1),
        redness(1, 3, 1),
        redness(2, 0, 0),
        redness(2, 1, 0),
        redness(3, 1, 0),
        redness(3, 0, 1),
    ];
    post_all(&app, &c, &posts).await;
    let late = CheckIn::new(
        &c.treatments[3].0,
        on_day(c.performed_at, 0, 600),
        json!({"redness": 3}),
    );
    app.check_in(&c.treatments[3].2, &late).await.ok(201);

    let view = app
        .get(
            &format!("/v1/protocols/{}/recovery", c.protocols[0]),
            &c.clinician,
        )
        .await;
    let view = view.ok(200);
    assert_eq!(view["treatments"], 4);
    let redness = &view["symptoms"][0];
    assert_eq!(redness["code"], "redness");
    assert_eq!(redness["incidence"], 0.75);
    // Day 0: scores 2, 3, 0, 3 -> n 4, mean 2, median 2 (2nd value of 0 2 3 3), p90 3, 3 of 4 moderate+.
    assert_eq!(
        redness["days"][0],
        json!({"day": 0, "n": 4, "mean": 2.0, "median": 2, "p75": 3, "p90": 3, "moderate_or_worse": 0.75})
    );
    assert_eq!(
        redness["days"][5],
        json!({"day": 5, "n": 0, "mean": null, "median": null, "p75": null, "p90": null, "moderate_or_worse": null})
    );
    assert_eq!(redness["days"].as_array().unwrap().len(), 29);
    let r = &redness["resolution"];
    assert_eq!(
        (
            r["affected"].clone(),
            r["resolved"].clone(),
            r["censored"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    // At risk 3; day 1: one resolves -> 2/3; day 2: one of 2 resolves -> 1/3; day 3: censored.
    let unresolved: Vec<f64> = r["curve"]
        .as_array()
        .unwrap()
        .iter()
        .take(4)
        .map(|p| p["unresolved"].as_f64().unwrap())
        .collect();
    for (got, want) in unresolved
        .iter()
        .zip([1.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0])
    {
        assert!((got - want).abs() < 1e-12, "{unresolved:?}");
    }
    assert_eq!(r["median_day"], 2);
    assert_eq!(r["p75_day"], Value::Null);
    // Patient 1 is still red at their last report.
    let p1 = app
        .get(
            &format!("/v1/patients/{}/recovery", c.treatments[1].1),
            &c.treatments[1].2,
        )
        .await;
    let symptom = &p1.ok(200)["treatments"][0]["symptoms"][0];
    assert_eq!(symptom["censored_at"], 3);
    assert_eq!(symptom["resolved_day"], Value::Null);
    assert_eq!(
        symptom["days"][0],
        json!({"day": 0, "score": 3, "cohort_median": null, "cohort_p90": null})
    );
}

#[tokio::test]
async fn protocols_compare_side_by_side() {
    let app = spawn_app().await;
    let c = cohorts(&app, 5).await; // four on A, one on B
    let posts: Vec<(usize, CheckIn)> = (0..5)
        .flat_map(|t| {
            let tr = c.treatments[t].0.clone();
            let at = c.performed_at;
            (0..=7).map(move |d| {
                let scores = json!({"redness": (3 - d).max(0), "fever": 0});
                (t, CheckIn::new(&tr, on_day(at, d, 30), scores))
            })
        })
        .collect();
    post_all(&app, &c, &posts).await;
    let [a, b] = &c.protocols;
    let r = app
        .get(&format!("/v1/protocols/compare?ids={a},{b}"), &c.clinician)
        .await;
    let cmp = r.ok(200);
    assert_eq!(cmp["protocols"][0]["protocol_id"], a.as_str());
    assert_eq!(cmp["protocols"][0]["treatments"], 4);
    assert_eq!(cmp["protocols"][1]["treatments"], 1);
    let redness = &cmp["symptoms"][0];
    assert_eq!(redness["code"], "redness");
    // Everyone: 3 2 1 0 ... resolved on day 3, so the median is day 3.
    assert_eq!(redness["protocols"][0]["median_day"], 3);
    assert_eq!(redness["protocols"][0]["incidence"], 1.0);
    assert_eq!(redness["protocols"][0]["moderate_or_worse_day_1"], 1.0);
    assert_eq!(redness["protocols"][0]["moderate_or_worse_day_3"], 0.0);
    assert_eq!(cmp["symptoms"][10]["protocols"][1]["incidence"], 0.0);
    // What code generators send for an array says the same; other parameters are ignored.
    for query in [format!("ids={a}&ids={b}"), format!("x=1&ids={a}&ids={b}")] {
        let r = app
            .get(&format!("/v1/protocols/compare?{query}"), &c.clinician)
            .await;
        assert_eq!(r.ok(200), cmp, "{query}");
    }

    for query in [
        format!("ids={a}"),
        format!("ids={a}&ids={a}"),
        format!("ids={a},{b}&ids={a}"), // the two forms mixed: a is named twice
        format!("ids={a}&ids="),
        format!("ids={a}&ids=nope"),
        format!("other={a},{b}"),
    ] {
        let r = app
            .get(&format!("/v1/protocols/compare?{query}"), &c.clinician)
            .await;
        assert_eq!(r.problem(400)["errors"][0]["field"], "ids", "{query}");
    }
    let six: Vec<String> = (0..6).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    app.get(
        &format!("/v1/protocols/compare?ids={}", six.join("&ids=")),
        &c.clinician,
    )
    .await
    .problem(400);
    app.get(&format!("/v1/protocols/compare?ids={a}"), &c.clinician)
        .await
        .problem(400);
    app.get(&format!("/v1/protocols/compare?ids={a},{a}"), &c.clinician)
        .await
        .problem(400);
    app.get(&format!("/v1/protocols/compare?ids={a},nope"), &c.clinician)
        .await
        .problem(400);
    app.get("/v1/protocols/compare", &c.clinician)
        .await
        .problem(400);
    let other = app.scenario("Other").await;
    app.get(
        &format!("/v1/protocols/compare?ids={a},{}", other.protocol),
        &c.clinician,
    )
    .await
    .problem(404);
    app.get(
        &format!("/v1/protocols/compare?ids={a},{b}"),
        &c.treatments[0].2,
    )
    .await
    .problem(403);
}

/// Worked on paper. Redness at 2 until it resolves; on A (8 treatments) it resolves on days 1, 1,
/// 2, 2, 3, 3, 4 and one is last seen still red on day 4 (censored); on B (2) on days 4 and 6.
///
/// day | n_A | n_B | d_A | d_B | E_A = d·n_A/n | V = n_A·n_B·d·(n-d) / (n²·(n-1))
///  1  |  8  |  2  |  2  |  0  | 1.6           | 8·2·2·8 / (100·9) = 0.284444
///  2  |  6  |  2  |  2  |  0  | 1.5           | 6·2·2·6 / (64·7)  = 0.321429
///  3  |  4  |  2  |  2  |  0  | 1.333333      | 4·2·2·4 / (36·5)  = 0.355556
///  4  |  2  |  2  |  1  |  1  | 1             | 2·2·2·2 / (16·3)  = 0.333333
///  6  |  0  |  1  |  0  |  1  | 0             | 0
/// O_A = 7, E_A = 5.433333, V = 1.294762: chi-square = 1.566667² / V = 1.895672, p = 0.168564.
///
/// Only the first sessions (A: resolved on days 1, 2, 3 and censored on 4; B: resolved on 4):
/// E_A = 0.8 + 0.75 + 0.666667 + 0.5 = 2.716667, V = 0.16 + 0.1875 + 0.222222 + 0.25 = 0.819722,
/// chi-square = 0.283333² / V = 0.097933, p = 0.754324.
#[tokio::test]
async fn compare_tests_whether_times_to_resolution_differ() {
    let app = spawn_app().await;
    let c = cohorts(&app, 10).await; // treatments 4 and 9 on B, the rest on A; odd ones session 2
    // (resolved on this day, or censored on it)
    let courses = [
        (0, Course::Resolved(1)),
        (1, Course::Resolved(1)),
        (2, Course::Resolved(2)),
        (3, Course::Resolved(2)),
        (5, Course::Resolved(3)),
        (6, Course::Resolved(3)),
        (7, Course::Resolved(4)),
        (8, Course::Censored(4)),
        (4, Course::Resolved(4)),
        (9, Course::Resolved(6)),
    ];
    let posts: Vec<(usize, CheckIn)> = courses
        .iter()
        .flat_map(|&(t, course)| {
            let tr = c.treatments[t].0.clone();
            let at = c.performed_at;
            let (until, red_before) = match course {
                Course::Resolved(d) => (7, i64::from(d)),
                Course::Censored(d) => (i64::from(d), i64::from(d) + 1),
                Course::Unaffected => unreachable!(),
            };
            (0..=until).map(move |d| {
                let scores = json!({"redness": if d < red_before { 2 } else { 0 }, "fever": 0});
                (t, CheckIn::new(&tr, on_day(at, d, 30), scores))
            })
        })
        .collect();
    post_all(&app, &c, &posts).await;
    let [a, b] = &c.protocols;
    let compare = |query: String| {
        let app = &app;
        let token = c.clinician.clone();
        async move {
            app.get(&format!("/v1/protocols/compare?ids={a},{b}{query}"), &token)
                .await
        }
    };
    let cmp = compare(String::new()).await.ok(200).clone();
    let redness = &cmp["symptoms"][0];
    assert_eq!(redness["code"], "redness");
    let close = |v: &Value, x: f64, tol: f64| (v.as_f64().unwrap() - x).abs() < tol;
    assert!(
        close(&redness["log_rank"]["chi_square"], 1.895672, 1e-6),
        "{redness}"
    );
    assert!(
        close(&redness["log_rank"]["p_value"], 0.168564, 1e-4),
        "{redness}"
    );
    // No one had a fever: nothing to test.
    let fever = cmp["symptoms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "fever");
    assert_eq!(fever.unwrap()["log_rank"], Value::Null);

    // The filters narrow both cohorts alike.
    let first = compare("&session_number=1".into()).await.ok(200).clone();
    assert_eq!(first["protocols"][0]["treatments"], 4);
    assert_eq!(first["protocols"][1]["treatments"], 1);
    let redness = &first["symptoms"][0];
    assert!(
        close(&redness["log_rank"]["chi_square"], 0.097933, 1e-6),
        "{redness}"
    );
    assert!(
        close(&redness["log_rank"]["p_value"], 0.754324, 1e-4),
        "{redness}"
    );
    let r = compare("&fitzpatrick_type=9".into()).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "fitzpatrick_type");
}

#[tokio::test]
async fn recovery_views_keep_to_their_clinic_and_patient() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let mine = format!("/v1/patients/{}/recovery", s.patients[0].id);
    app.get(&mine, &s.patients[0].token).await.ok(200);
    app.get(&mine, &s.clinician).await.ok(200);
    app.get(&mine, &s.patients[1].token).await.problem(404);
    app.get(&mine, &other.clinician).await.problem(404);
    let protocol = format!("/v1/protocols/{}/recovery", s.protocol);
    app.get(&protocol, &other.clinician).await.problem(404);
    app.get(&protocol, &s.patients[0].token).await.problem(403);
    app.get(&format!("{protocol}?fitzpatrick_type=9"), &s.clinician)
        .await
        .problem(400);
    app.get(
        &format!("{protocol}?from=2026-02-01&to=2026-01-01"),
        &s.clinician,
    )
    .await
    .problem(400);
    app.get(&format!("{protocol}?area=knees"), &s.clinician)
        .await
        .problem(400);
    app.get("/v1/dashboard", &s.patients[0].token)
        .await
        .problem(403);
    // Another clinic's check-ins don't show in this clinic's views.
    let theirs = &other.patients[0];
    let check_in = CheckIn::new(&theirs.treatment, Utc::now(), json!({"redness": 4}));
    app.check_in(&theirs.token, &check_in).await.ok(201);
    let view = app.get(&protocol, &s.clinician).await;
    assert_eq!(view.ok(200)["symptoms"][0]["resolution"]["affected"], 0);
    assert_eq!(
        app.get("/v1/dashboard", &s.clinician).await.ok(200)["check_ins_today"],
        0
    );
}

#[tokio::test]
async fn the_dashboard_shows_the_clinic_today() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await; // two treatments performed two days ago
    let p = &s.patients[0];
    // Asked once before the check-ins, so that the answer below must come from what changed since
    // (the dashboard keeps each treatment's part between requests).
    let d = app.get("/v1/dashboard", &s.clinician).await;
    assert_eq!(d.ok(200)["due_today_checked_in"], 0);
    let today = CheckIn::new(&p.treatment, Utc::now(), json!({"redness": 1}));
    app.check_in(&p.token, &today).await.ok(201);
    // Yesterday's answers, sent today by a phone that was offline, count for yesterday.
    let yesterday = Utc::now() - Duration::days(1);
    let yesterday = CheckIn::new(&p.treatment, yesterday, json!({"redness": 2}));
    app.check_in(&p.token, &yesterday).await.ok(201);
    let d = app.get("/v1/dashboard", &s.clinician).await;
    let d = d.ok(200);
    assert_eq!(d["active_treatments"], 2);
    assert_eq!(d["check_ins_today"], 1);
    // Both treatments have a check-in scheduled every day of the first two weeks.
    assert_eq!(d["due_today"], 2);
    assert_eq!(d["due_today_checked_in"], 1);
    // Days 0 and 1 were due for both; patient 0 checked in on day 1 (late) and today (day 2).
    // (Near midnight in Berlin day 0 may be "today", so allow for both readings.)
    let adherence = d["adherence_7d"].as_f64().unwrap();
    assert!(
        adherence == 2.0 / 5.0 || adherence == 2.0 / 3.0,
        "{adherence}"
    );
    assert_eq!(d["slower_than_usual"], json!([]));
}

/// Where two JSON values first differ, for a readable failure.
pub(crate) fn first_difference(
    a: &Value,
    b: &Value,
    path: String,
) -> Option<(String, Value, Value)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            first_difference(
                &x[k],
                y.get(k).unwrap_or(&Value::Null),
                format!("{path}.{k}"),
            )
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some((path, a.clone(), b.clone())),
    }
}

/// Daily scores as the read model keeps them.
pub(crate) fn day_scores(series: &[Option<u8>]) -> Vec<DayScore> {
    series.iter().map(|&s| DayScore::from(s)).collect()
}
