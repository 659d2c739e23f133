//! How long the recovery read model takes to load from a database, and how much memory the process
//! holds once it has: `bench-model DATABASE_URL`. Run by `bench/run.sh`; see bench/README.md.

use std::time::Instant;

use diesel::{Connection, PgConnection};

/// A line of /proc/self/status, in MB: `VmRSS` (held now) or `VmHWM` (the most ever held).
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .map_or(0, |kb: u64| kb / 1024)
}

fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .expect("usage: bench-model DATABASE_URL");
    let mut conn = PgConnection::establish(&url)?;
    let store = aftercare::read_model::Store::new();
    let started = Instant::now();
    store.refresh(&mut conn)?;
    println!(
        "read model loaded in {:.1} s; process memory {} MB (peak {} MB)",
        started.elapsed().as_secs_f64(),
        memory("VmRSS:"),
        memory("VmHWM:")
    );
    Ok(())
}
