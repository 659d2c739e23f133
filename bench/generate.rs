//! Generates realistic synthetic recoveries for the benchmark and writes them as PostgreSQL COPY
//! files plus a `load.sql` that loads them with psql (see bench/README.md).
//!
//! One clinic group with three protocols (microneedling 1.0 mm, 1.5 mm, and with PRP), and
//! recoveries drawn from `aftercare::local::synthetic`, the model the demo clinic uses too.
//!
//! Usage: cargo run --release --example bench-generate -- SCORES OUT_DIR [SEED]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use aftercare::local::synthetic::{Course, Model, PROTOCOLS, SCHEDULE};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

pub const PASSWORD: &str = "bench-password-0001";
pub const CLINICIAN: &str = "clinician@bench.aftercare.test";

/// A protocol of the benchmark's clinic and how patients react to it.
struct Protocol {
    id: Uuid,
    model: &'static Model,
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
        let tables: Vec<String> = self.files.iter().map(|f| format!("'{}'", f.0)).collect();
        // The rows are generated consistent, so no foreign key is checked row by row (the schema has
        // no insert triggers), and the secondary indexes are built once at the end, not row by row.
        let mut sql = format!(
            "\\set ON_ERROR_STOP on\n\
             SET session_replication_role = replica;\n\
             SET maintenance_work_mem = '1GB';\n\
             BEGIN;\n\
             CREATE TEMP TABLE secondary ON COMMIT DROP AS\n  \
               SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public'\n  \
               AND tablename IN ({})\n  \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);\n\
             SELECT format('DROP INDEX %I', indexname) FROM secondary \\gexec\n",
            tables.join(", ")
        );
        for (table, columns, mut w) in self.files {
            w.flush().expect("flush");
            sql += &format!(
                "\\copy {table} ({columns}) FROM '{}'\n",
                self.dir.join(format!("{table}.tsv")).display()
            );
        }
        // Vacuumed now, so that autovacuum does not wake up in the middle of a measurement.
        sql += "SELECT indexdef FROM secondary \\gexec\nCOMMIT;\nVACUUM (ANALYZE);\n";
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
    eprintln!("{} in {}", generate(target, dir, seed), dir.display());
}

/// Writes at least `target` scores' worth of recoveries into `dir` (COPY files and `load.sql`), and
/// says how many of each it wrote. The same `seed` writes the same recoveries, up to today's date.
/// (`tests/api/generated.rs` loads a small one and checks the views against its raw scores.)
pub fn generate(target: u64, dir: &Path, seed: u64) -> String {
    std::fs::create_dir_all(dir).expect("create OUT_DIR");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Out {
        dir: dir.to_path_buf(),
        files: vec![],
    };
    let clinics = out.table("clinics", "id, name, timezone, code");
    let staff = out.table("staff", "id, clinic_id, email, password_hash, role, name");
    let protocols_t = out.table(
        "protocols",
        "id, clinic_id, name, procedure, needle_depth_mm, areas, sessions_planned, interval_days, check_in_days, aftercare_instructions",
    );
    let patients_t = out.table(
        "patients",
        "id, clinic_id, external_ref, external_ref_key, fitzpatrick_type, concerns",
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
    out.row(
        clinics,
        &[&clinic, &"Bench Clinic Group", &"Europe/Berlin", &"BENCH2"],
    );
    let hash = aftercare::web::auth::hash_password(PASSWORD).expect("hash");
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
    let protocols = PROTOCOLS.each_ref().map(|model| Protocol {
        id: uuid(&mut rng),
        model,
    });
    let days = format!("{{{}}}", SCHEDULE.map(|d| d.to_string()).join(","));
    for p in &protocols {
        out.row(
            protocols_t,
            &[
                &p.id,
                &clinic,
                &p.model.name,
                &p.model.procedure,
                &p.model.depth,
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
        let fitz = aftercare::local::synthetic::fitzpatrick(&mut rng);
        let record = format!("MRN-{patients:07}");
        out.row(
            patients_t,
            &[
                &patient,
                &clinic,
                &record,
                &aftercare::domain::text::record_key(&record),
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
                    &p.model.depth,
                    &areas,
                    &session,
                    &contraindications,
                    &clinician,
                ],
            );
            let course = Course::draw(&mut rng, p.model, fitz);
            for &day in &SCHEDULE {
                let at_day = performed + Duration::days(day);
                if at_day > now {
                    break;
                }
                for _ in 0..course.check_ins_on(&mut rng, day) {
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
                    for (code, score) in course.scores(&mut rng, day) {
                        out.row(
                            scores_t,
                            &[&id, &code, &score, &clinic, &treatment, &p.id, &day],
                        );
                        scores += 1;
                    }
                }
            }
            performed += Duration::days(rng.random_range(28..42));
        }
    }
    out.finish();
    format!("{patients} patients, {treatments} treatments, {check_ins} check-ins, {scores} scores")
}
