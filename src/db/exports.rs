//! FHIR Bulk Data export jobs and their ndjson files.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{fhir_export_files, fhir_exports};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fhir_exports)]
pub struct Export {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub request: String,
    pub group_id: Option<Uuid>,
    pub types: Vec<Option<String>>,
    pub since: Option<DateTime<Utc>>,
    pub status: String,
    pub progress: String,
    pub error: Option<String>,
    pub transaction_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// A file of an export, without its body (the manifest lists these).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fhir_export_files)]
pub struct FileInfo {
    pub id: Uuid,
    pub resource_type: String,
    pub seq: i32,
    pub count: i32,
}

/// A job of the worker: the export and its clinic.
#[derive(Debug, Clone)]
pub struct Job {
    pub tenant: Tenant,
    pub export: Export,
}

/// Stores a new export. A clinic's second export while one is queued or running violates
/// `fhir_exports_one_at_a_time`: the caller answers 429.
pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Export) -> QueryResult<Export> {
    diesel::insert_into(fhir_exports::table)
        .values((fhir_exports::clinic_id.eq(tenant.id()), new))
        .returning(Export::as_returning())
        .get_result(conn)
}

/// The clinic's export, if it has not expired.
pub fn get(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<Export> {
    fhir_exports::table
        .filter(fhir_exports::clinic_id.eq(tenant.id()))
        .filter(fhir_exports::id.eq(id))
        .filter(fhir_exports::expires_at.gt(diesel::dsl::now))
        .select(Export::as_select())
        .first(conn)
}

pub fn files(conn: &mut PgConnection, tenant: Tenant, export: Uuid) -> QueryResult<Vec<FileInfo>> {
    fhir_export_files::table
        .filter(fhir_export_files::clinic_id.eq(tenant.id()))
        .filter(fhir_export_files::export_id.eq(export))
        .select(FileInfo::as_select())
        .order(fhir_export_files::seq)
        .load(conn)
}

/// A completed export's file: its type and body.
pub fn file(
    conn: &mut PgConnection,
    tenant: Tenant,
    export: Uuid,
    id: Uuid,
) -> QueryResult<(String, String)> {
    fhir_export_files::table
        .inner_join(fhir_exports::table)
        .filter(fhir_export_files::clinic_id.eq(tenant.id()))
        .filter(fhir_export_files::export_id.eq(export))
        .filter(fhir_export_files::id.eq(id))
        .filter(fhir_exports::status.eq("completed"))
        .filter(fhir_exports::expires_at.gt(diesel::dsl::now))
        .select((fhir_export_files::resource_type, fhir_export_files::body))
        .first(conn)
}

/// Cancels an export that has not finished, or deletes a finished one (with its files); false if
/// there was none (or it was cancelled before).
pub fn cancel(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let mine = fhir_exports::table
            .filter(fhir_exports::clinic_id.eq(tenant.id()))
            .filter(fhir_exports::id.eq(id));
        let cancelled =
            diesel::update(mine.filter(fhir_exports::status.eq_any(["queued", "running"])))
                .set((
                    fhir_exports::status.eq("cancelled"),
                    fhir_exports::progress.eq("cancelled"),
                    fhir_exports::completed_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        clear_files(conn, tenant, id)?;
        let deleted = if cancelled == 0 {
            let finished = ["completed", "failed"];
            diesel::delete(mine.filter(fhir_exports::status.eq_any(finished))).execute(conn)?
        } else {
            0
        };
        Ok(cancelled + deleted > 0)
    })
}

/// Every clinic's exports waiting for a worker: the queued ones, and the running ones whose worker
/// is gone (the caller checks that by trying the job's advisory lock).
pub fn unfinished(conn: &mut PgConnection) -> QueryResult<Vec<Job>> {
    let rows: Vec<(Uuid, Export)> = fhir_exports::table
        .filter(fhir_exports::status.eq_any(["queued", "running"]))
        .order(fhir_exports::created_at)
        .select((fhir_exports::clinic_id, Export::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(clinic, export)| Job {
            tenant: Tenant::new(clinic),
            export,
        })
        .collect())
}

/// Sets an export's status and progress, unless it was cancelled meanwhile; false then.
pub fn set_status(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: Uuid,
    status: &str,
    progress: &str,
    error: Option<&str>,
) -> QueryResult<bool> {
    let done = ["completed", "failed"].contains(&status);
    let n = diesel::update(
        fhir_exports::table
            .filter(fhir_exports::clinic_id.eq(tenant.id()))
            .filter(fhir_exports::id.eq(id))
            .filter(fhir_exports::status.eq_any(["queued", "running"])),
    )
    .set((
        fhir_exports::status.eq(status),
        fhir_exports::progress.eq(progress),
        fhir_exports::error.eq(error),
        fhir_exports::completed_at.eq(done.then(Utc::now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Drops what an interrupted run of the export wrote, so that the next run starts clean.
pub fn clear_files(conn: &mut PgConnection, tenant: Tenant, export: Uuid) -> QueryResult<()> {
    diesel::delete(
        fhir_export_files::table
            .filter(fhir_export_files::clinic_id.eq(tenant.id()))
            .filter(fhir_export_files::export_id.eq(export)),
    )
    .execute(conn)
    .map(drop)
}

pub fn insert_file(
    conn: &mut PgConnection,
    tenant: Tenant,
    export: Uuid,
    resource_type: &str,
    seq: i32,
    count: i32,
    body: &str,
) -> QueryResult<()> {
    diesel::insert_into(fhir_export_files::table)
        .values((
            fhir_export_files::id.eq(Uuid::new_v4()),
            fhir_export_files::export_id.eq(export),
            fhir_export_files::clinic_id.eq(tenant.id()),
            fhir_export_files::resource_type.eq(resource_type),
            fhir_export_files::seq.eq(seq),
            fhir_export_files::count.eq(count),
            fhir_export_files::body.eq(body),
        ))
        .execute(conn)
        .map(drop)
}

/// Deletes every clinic's expired exports with their files; how many.
pub fn sweep_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(fhir_exports::table.filter(fhir_exports::expires_at.le(diesel::dsl::now)))
        .execute(conn)
}
