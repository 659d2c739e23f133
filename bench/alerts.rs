//! The alert rules' precision and recall on synthetic treatments whose every course is known
//! (`aftercare::local::synthetic::precision`); see bench/README.md.
//!
//! Usage: cargo run --release --example bench-alerts -- [TREATMENTS] [SEED...]

fn main() {
    let mut args = std::env::args().skip(1);
    let treatments: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mut seeds: Vec<u64> = args.filter_map(|a| a.parse().ok()).collect();
    if seeds.is_empty() {
        seeds = vec![1, 2, 3, 4, 5];
    }
    let mut missed = false;
    for seed in seeds {
        let report = aftercare::local::synthetic::precision::run(seed, treatments);
        println!("{report}");
        for target in report.missed_targets() {
            println!("MISSED: {target}");
            missed = true;
        }
        println!();
    }
    std::process::exit(i32::from(missed));
}
