//! Generates realistic synthetic recoveries for the benchmark and writes them as PostgreSQL COPY
//! files plus a `load.sql` that loads them with psql (see bench/README.md).
//!
//! One clinic group with three protocols (microneedling 1.0 mm, 1.5 mm, and with PRP). Symptoms fade
//! over days 0-7 at rates that differ by protocol and Fitzpatrick type; flaking and itching peak on
//! days 2-4; about one treatment in ten recovers slowly, one in a hundred shows infection signs, a few
//! have late breakouts or darkening (more in darker skin); patients miss some days and sometimes
//! check in twice.
//!
//! Usage: cargo run --release --example bench-generate -- SCORES OUT_DIR [SEED]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

pub const PASSWORD: &str = "bench-password-0001";
pub const CLINICIAN: &str = "clinician@bench.aftercare.test";

const CODES: [&str; 12] = [
    "redness",
    "swelling",
    "bruising",
    "bleeding",
    "flaking",
    "itching",
    "pain",
    "breakout",
    "darkening",
    "infection",
    "fever",
    "blisters",
];
const SCHEDULE: [i64; 17] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28];

struct Protocol {
    id: Uuid,
    name: &'static str,
    procedure: &'static str,
    depth: f64,
    /// How fast redness and swelling fade, per day.
    rate: f64,
    /// How strong the reaction is on day 0.
    intensity: f64,
}

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

struct Out {
    dir: std::path::PathBuf,
    files: Vec<(String, String, BufWriter<File>)>,
}

impl Out {
    fn table(&mut self, table: &str, columns: &str) -> usize {
        let file = format!("{table}.tsv");
        let w = BufWriter::with_capacity(
            1 << 20,
            File::create(self.dir.join(&file)).expect("create output file"),
        );
        self.files.push((table.to_string(), columns.to_string(), w));
        self.files.len() - 1
    }

    fn row(&mut self, table: usize, fields: &[&dyn std::fmt::Display]) {
        let w = &mut self.files[table].2;
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                w.write_all(b"\t").expect("write");
            }
            write!(w, "{f}").expect("write");
        }
        w.write_all(b"\n").expect("write");
    }

    fn finish(self) {
        let mut sql = String::from("\\set ON_ERROR_STOP on\nBEGIN;\n");
        for (table, columns, mut w) in self.files {
            w.flush().expect("flush");
            sql += &format!(
                "\\copy {table} ({columns}) FROM '{}'\n",
                self.dir.join(format!("{table}.tsv")).display()
            );
        }
        // Vacuumed now, so that autovacuum does not wake up in the middle of a measurement.
        sql += "COMMIT;\nVACUUM (ANALYZE);\n";
        std::fs::write(self.dir.join("load.sql"), sql).expect("write load.sql");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .expect("usage: bench-generate SCORES OUT_DIR [SEED]");
    let dir = Path::new(
        args.get(2)
            .expect("usage: bench-generate SCORES OUT_DIR [SEED]"),
    );
    let seed = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(42);
    std::fs::create_dir_all(dir).expect("create OUT_DIR");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Out {
        dir: dir.to_path_buf(),
        files: vec![],
    };
    let clinics = out.table("clinics", "id, name, timezone");
    let staff = out.table("staff", "id, clinic_id, email, password_hash, role, name");
    let protocols_t = out.table(
        "protocols",
        "id, clinic_id, name, procedure, needle_depth_mm, areas, sessions_planned, interval_days, check_in_days, aftercare_instructions",
    );
    let patients_t = out.table(
        "patients",
        "id, clinic_id, external_ref, fitzpatrick_type, concerns",
    );
    let treatments_t = out.table(
        "treatments",
        "id, clinic_id, patient_id, protocol_id, performed_at, needle_depth_mm, areas, session_number, contraindications, created_by",
    );
    let check_ins_t = out.table(
        "check_ins",
        "id, clinic_id, patient_id, treatment_id, recorded_at, day, sunscreen, received_at",
    );
    let scores_t = out.table(
        "check_in_scores",
        "check_in_id, symptom_code, score, clinic_id, treatment_id, protocol_id, day",
    );

    let clinic = uuid(&mut rng);
    out.row(clinics, &[&clinic, &"Bench Clinic Group", &"Europe/Berlin"]);
    let hash = aftercare::auth::hash_password(PASSWORD).expect("hash");
    let clinician = uuid(&mut rng);
    out.row(
        staff,
        &[
            &clinician,
            &clinic,
            &CLINICIAN,
            &hash,
            &"clinician",
            &"Bench Clinician",
        ],
    );
    let protocols = [
        Protocol {
            id: uuid(&mut rng),
            name: "Microneedling 1.0 mm",
            procedure: "microneedling",
            depth: 1.0,
            rate: 0.55,
            intensity: 2.6,
        },
        Protocol {
            id: uuid(&mut rng),
            name: "Microneedling 1.5 mm",
            procedure: "microneedling",
            depth: 1.5,
            rate: 0.38,
            intensity: 3.1,
        },
        Protocol {
            id: uuid(&mut rng),
            name: "Microneedling with PRP",
            procedure: "microneedling_prp",
            depth: 1.0,
            rate: 0.65,
            intensity: 2.4,
        },
    ];
    let days = format!("{{{}}}", SCHEDULE.map(|d| d.to_string()).join(","));
    for p in &protocols {
        out.row(
            protocols_t,
            &[
                &p.id,
                &clinic,
                &p.name,
                &p.procedure,
                &p.depth,
                &"{face}",
                &3,
                &35,
                &days,
                &"",
            ],
        );
    }
    let contraindications = r#"{"active_acne": false, "skin_infection": false, "eczema_psoriasis": false, "keloid_history": false, "bleeding_disorder": false, "pregnancy": false, "skin_allergy": false, "diabetes": false}"#;
    let now = Utc::now();
    let (mut scores, mut patients, mut treatments, mut check_ins) = (0u64, 0u64, 0u64, 0u64);
    while scores < target {
        let patient = uuid(&mut rng);
        patients += 1;
        let fitz: i16 = [1, 2, 2, 3, 3, 4, 4, 5, 6][rng.random_range(0..9)];
        out.row(
            patients_t,
            &[
                &patient,
                &clinic,
                &format!("MRN-{patients:07}"),
                &fitz,
                &"{texture}",
            ],
        );
        let p = &protocols[rng.random_range(0..3)];
        // Treatments over the last two years; each patient has a series of 1-3 sessions.
        let mut performed = now - Duration::minutes(rng.random_range(60..700 * 24 * 60));
        for session in 1..=rng.random_range(1..=3) {
            if performed > now {
                break;
            }
            let treatment = uuid(&mut rng);
            treatments += 1;
            let areas = if rng.random_bool(0.3) {
                "{face,neck}"
            } else {
                "{face}"
            };
            out.row(
                treatments_t,
                &[
                    &treatment,
                    &clinic,
                    &patient,
                    &p.id,
                    &ts(performed),
                    &p.depth,
                    &areas,
                    &session,
                    &contraindications,
                    &clinician,
                ],
            );
            let slow = if rng.random_bool(0.1) { 0.4 } else { 1.0 };
            let infection = rng.random_bool(0.01);
            let late = rng.random_bool(if fitz >= 4 { 0.08 } else { 0.02 });
            let adherence = rng.random_range(0.6..0.98);
            let strength = p.intensity * rng.random_range(0.7..1.3);
            for &day in &SCHEDULE {
                let at_day = performed + Duration::days(day);
                if at_day > now {
                    break;
                }
                if !rng.random_bool(adherence - day as f64 * 0.01) {
                    continue;
                }
                for _ in 0..if rng.random_bool(0.1) { 2 } else { 1 } {
                    let recorded = at_day + Duration::minutes(rng.random_range(0..600));
                    if recorded > now {
                        continue;
                    }
                    let id = uuid(&mut rng);
                    check_ins += 1;
                    out.row(
                        check_ins_t,
                        &[
                            &id,
                            &clinic,
                            &patient,
                            &treatment,
                            &ts(recorded),
                            &day,
                            &"t",
                            &ts(recorded),
                        ],
                    );
                    for (k, code) in CODES.iter().enumerate() {
                        // The common items are always asked; the rest about half the time.
                        if k >= 7 && k != 9 && k != 10 && !rng.random_bool(0.5) {
                            continue;
                        }
                        let d = day as f64;
                        let noise = rng.random_range(-0.6..0.6);
                        let raw = match *code {
                            "redness" | "swelling" | "pain" => {
                                strength * (-p.rate * slow * d).exp()
                            }
                            "bruising" | "bleeding" => strength * 0.5 * (-1.2 * d).exp(),
                            "flaking" | "itching" => {
                                1.8 * (-((d - 3.0) / 2.0).powi(2)).exp() * strength / 2.6
                            }
                            "breakout" | "darkening" if late && day >= 7 => {
                                rng.random_range(1.5..3.4)
                            }
                            "darkening" if fitz >= 4 => 0.8 * (-0.2 * d).exp(),
                            "infection" if infection && (3..=8).contains(&day) => {
                                rng.random_range(1.0..3.5)
                            }
                            "fever" => f64::from(
                                infection && (3..=5).contains(&day) && rng.random_bool(0.5),
                            ),
                            _ => 0.0,
                        };
                        let max = if k >= 10 { 1.0 } else { 4.0 };
                        let score = (raw + if k >= 10 { 0.0 } else { noise })
                            .round()
                            .clamp(0.0, max) as i16;
                        out.row(
                            scores_t,
                            &[&id, code, &score, &clinic, &treatment, &p.id, &day],
                        );
                        scores += 1;
                    }
                }
            }
            performed += Duration::days(rng.random_range(28..42));
        }
    }
    out.finish();
    eprintln!(
        "{patients} patients, {treatments} treatments, {check_ins} check-ins, {scores} scores in {}",
        dir.display()
    );
}
