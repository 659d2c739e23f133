//! How a FHIR Bulk Data export reads a large clinic, a page (a file) at a time:
//! `bench-export DATABASE_URL`. Both ways of paging run side by side on the clinic with the most
//! check-ins, through the service's own queries (`fhir::fetch::page`):
//! - by cursor, as the export worker and a search's `next` links page: every page, and the whole
//!   export's time;
//! - by offset, as they paged before (and a search's `_offset` still does): pages at five depths,
//!   and the whole export's time estimated from them (the pages in between grow linearly).
//!
//! See bench/README.md.

use std::time::Instant;

use aftercare::db::Tenant;
use aftercare::db::fhir::{Cursor, Filter};
use aftercare::fhir::export::FILE_SIZE;
use aftercare::fhir::fetch;
use aftercare::fhir::kind::Kind;
use diesel::sql_types::Uuid as SqlUuid;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Busiest {
    #[diesel(sql_type = SqlUuid)]
    clinic_id: uuid::Uuid,
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .expect("usage: bench-export DATABASE_URL");
    let mut conn = PgConnection::establish(&url)?;
    diesel::sql_query("SET statement_timeout = 0").execute(&mut conn)?;
    let clinic = diesel::sql_query(
        "SELECT clinic_id FROM check_ins GROUP BY clinic_id ORDER BY count(*) DESC LIMIT 1",
    )
    .get_result::<Busiest>(&mut conn)?
    .clinic_id;
    let tenant = Tenant::new(clinic.into());
    let mut page = |f: Filter, kind: Kind| -> anyhow::Result<(Vec<fetch::Entry>, f64)> {
        let started = Instant::now();
        let entries = fetch::page(&mut conn, tenant, kind, f, aftercare::fhir::BASE)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok((entries, seconds(started)))
    };

    for kind in [Kind::QuestionnaireResponse, Kind::Observation] {
        // By cursor: the whole export.
        let started = Instant::now();
        let (mut after, mut times) = (Cursor::start(), vec![]);
        loop {
            let f = Filter {
                after: Some(after),
                ..Filter::all(0, FILE_SIZE)
            };
            let (entries, took) = page(f, kind)?;
            times.push(took);
            match entries.last() {
                Some(last) if entries.len() as i64 == FILE_SIZE => after = last.key.clone(),
                _ => break,
            }
        }
        let total = seconds(started);
        let pages = times.len();
        let depths: Vec<usize> = (0..5).map(|q| (pages - 1) * q / 4).collect();
        println!("{}: {pages} files of {FILE_SIZE}", kind.as_str());
        let cursor: Vec<String> = depths.iter().map(|&d| format!("{:.3}", times[d])).collect();
        println!(
            "  by cursor: whole export {total:.1} s; a page at 0/25/50/75/100% deep: {} s",
            cursor.join(" / ")
        );
        // By offset: the same depths, and the whole export estimated from them.
        let mut offset_times = vec![];
        for &d in &depths {
            let (_, took) = page(Filter::all(d as i64 * FILE_SIZE, FILE_SIZE), kind)?;
            offset_times.push(took);
        }
        let mean = offset_times
            .windows(2)
            .map(|w| (w[0] + w[1]) / 2.0)
            .sum::<f64>()
            / 4.0;
        let shown: Vec<String> = offset_times.iter().map(|t| format!("{t:.3}")).collect();
        println!(
            "  by offset: whole export about {:.0} s (estimated); a page at 0/25/50/75/100% deep: {} s",
            mean * pages as f64,
            shown.join(" / ")
        );
    }
    Ok(())
}
