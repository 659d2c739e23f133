//! Runs FHIR Bulk Data exports: each job on one instance at a time (a session advisory lock on
//! the job, held while it runs), its ndjson files written to the database a file at a time. A job
//! whose worker died (its connection, and so its lock, gone) is picked up by the next look and
//! run again from the start. Expired exports are swept with their files.

use diesel::prelude::*;
use uuid::Uuid;

use crate::config::ExportSettings;
use crate::db::exports::{self, Job};
use crate::db::fhir::{Cursor, Filter, Seen};
use crate::db::{self, Pool};
use crate::fhir::export;
use crate::fhir::fetch;
use crate::fhir::kind::Kind;

/// Runs the worker on a thread of its own.
pub fn spawn(
    pool: Pool,
    settings: ExportSettings,
    stop: super::Stop,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            if let Err(e) = run_once(&pool, settings) {
                tracing::warn!(error = %e, "the FHIR export worker failed; it looks again later");
            }
            if stop.wait(settings.poll) {
                break;
            }
        }
    })
}

/// Sweeps expired exports, then runs every job no other worker holds.
pub fn run_once(pool: &Pool, settings: ExportSettings) -> anyhow::Result<()> {
    let jobs = {
        let mut conn = pool.get()?;
        exports::sweep_expired(&mut conn)?;
        exports::unfinished(&mut conn)?
    };
    for job in jobs {
        let mut conn = pool.get()?;
        let key = lock_key(job.export.id);
        if !db::try_advisory_lock(&mut conn, key)? {
            continue;
        }
        let result = run(&mut conn, &job, settings.file_size);
        db::advisory_unlock(&mut conn, key)?;
        if let Err(e) = result {
            tracing::warn!(export = %job.export.id, error = %e, "a FHIR export failed");
            let message = "the export could not be completed; ask for it again";
            exports::set_status(
                &mut conn,
                job.tenant,
                job.export.id,
                "failed",
                "failed",
                Some(message),
            )?;
        }
    }
    Ok(())
}

/// The advisory lock of one export: its id's first 8 bytes.
fn lock_key(id: Uuid) -> i64 {
    let b = id.as_bytes();
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Writes the export's files, type by type (and for a Group, member by member); stops when the
/// export is cancelled meanwhile.
fn run(conn: &mut PgConnection, job: &Job, file_size: i64) -> anyhow::Result<()> {
    let (tenant, export) = (job.tenant, &job.export);
    exports::clear_files(conn, tenant, export.id)?;
    if !exports::set_status(conn, tenant, export.id, "running", "starting", None)? {
        return Ok(());
    }
    let type_filters: Vec<String> = export.type_filters.iter().flatten().cloned().collect();
    let patients_asked: Option<Vec<Uuid>> =
        (export.patients.as_ref()).map(|list| list.iter().flatten().copied().collect());
    let asked = |p: &Uuid| patients_asked.as_ref().is_none_or(|list| list.contains(p));
    let patients: Vec<Option<Uuid>> = match export.group_id {
        Some(group) => db::fhir::cohorts(conn, tenant, Filter::all(0, 1), Some(group))?
            .into_iter()
            .flat_map(|c| c.members.into_iter().map(Uuid::from))
            .filter(asked)
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let mut seq = 0;
    // The FHIR base the export was asked at: a Media's Binary URL is under it.
    let base = export::base_of(&export.request);
    for kind in export.types.iter().flatten().filter_map(|t| Kind::parse(t)) {
        let mut written = 0;
        // What `_typeFilter` asks of the kind, narrowed to the `patient`s asked for.
        let search = export::type_search(kind, tenant.id().uuid(), &type_filters)
            .map_err(|e| anyhow::anyhow!(e))?
            .unwrap_or_default();
        let mut criteria = search.criteria;
        if let Some(asked) = &patients_asked {
            let narrowed = match criteria.patients.take() {
                Some(list) => list.into_iter().filter(|p| asked.contains(p)).collect(),
                None => asked.clone(),
            };
            criteria.patients = Some(narrowed);
        }
        // The export's snapshot bounds it: what it does not see is for the next `_since` export.
        // A `_since` that is an earlier export's transactionTime starts where that one's snapshot
        // ended; any other instant is compared with the rows' last update.
        let seen = Seen {
            by: export.snapshot.clone(),
            not_by: export.since_snapshot.clone(),
        };
        let since = export.since.filter(|_| seen.not_by.is_none());
        let from = match (since, search.window.from) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for patient in &patients {
            // Each page starts after the last row of the one before (a cursor, not an offset):
            // a page deep into a large clinic reads no more than the first, and a row changed
            // meanwhile shifts no other. It comes again at its new place (the newer last).
            let mut after = Cursor::start();
            loop {
                let f = Filter {
                    patient: *patient,
                    from,
                    to: search.window.to,
                    criteria: criteria.clone(),
                    seen: Some(seen.clone()),
                    after: Some(after),
                    ..Filter::all(0, file_size)
                };
                // A background job, not a request: a page deep into a large clinic's data may
                // take longer than a request's statement is allowed.
                let entries = conn.transaction(|conn| {
                    diesel::sql_query("SET LOCAL statement_timeout = '10min'").execute(conn)?;
                    fetch::page(conn, tenant, kind, f, &base)
                })?;
                if entries.is_empty() {
                    break;
                }
                let count = entries.len() as i64;
                let going = conn.transaction(|conn| {
                    // The export's row first (an erasure locks it too), then the erasures: a
                    // patient erased since the page was read is left out of the file.
                    let progress = format!("{}: {} resources", kind.as_str(), written + count);
                    if !exports::set_status(conn, tenant, export.id, "running", &progress, None)? {
                        return Ok::<_, anyhow::Error>(None);
                    }
                    let mut held: Vec<Uuid> = entries.iter().filter_map(|e| e.patient).collect();
                    held.sort_unstable();
                    held.dedup();
                    let erased = exports::erased_among(conn, tenant, &held)?;
                    held.retain(|p| !erased.contains(p));
                    let kept: Vec<_> = entries
                        .iter()
                        .filter(|e| e.patient.is_none_or(|p| !erased.contains(&p)))
                        .collect();
                    if kept.is_empty() {
                        return Ok(Some(0));
                    }
                    let body: String = kept.iter().map(|e| format!("{}\n", e.resource)).collect();
                    let file = exports::NewFile {
                        resource_type: kind.as_str(),
                        seq,
                        count: kept.len() as i32,
                        body: &body,
                        patients: &held,
                    };
                    exports::insert_file(conn, tenant, export.id, file)?;
                    Ok(Some(kept.len() as i64))
                })?;
                let Some(kept) = going else {
                    return Ok(exports::clear_files(conn, tenant, export.id)?);
                };
                written += kept;
                if kept > 0 {
                    seq += 1;
                }
                match entries.last() {
                    Some(last) if count == file_size => after = last.key.clone(),
                    _ => break,
                }
            }
        }
    }
    exports::set_status(conn, tenant, export.id, "completed", "completed", None)?;
    Ok(())
}
