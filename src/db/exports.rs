//! FHIR Bulk Data export jobs and their ndjson files.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Tenant;
use super::schema::{fhir_export_files, fhir_export_marks, fhir_exports, patient_erasures};
use crate::domain::ids::ClinicId;

/// Who kicked an export off: only they see its status, download its files or cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An admin, by staff id.
    Staff(Uuid),
    /// A system client, by its id.
    Client(Uuid),
}

impl Owner {
    pub fn id(self) -> Uuid {
        match self {
            Owner::Staff(id) | Owner::Client(id) => id,
        }
    }

    /// As `fhir_exports.requester_kind` stores it.
    pub fn kind(self) -> &'static str {
        match self {
            Owner::Staff(_) => "staff",
            Owner::Client(_) => "client",
        }
    }
}

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
    /// `staff` or `client`: what `requested_by` is.
    pub requester_kind: String,
    /// The kick-off's `_typeFilter` values, as given.
    pub type_filters: Vec<Option<String>>,
    /// The kick-off's `patient` references; `None`: every patient.
    pub patients: Option<Vec<Option<Uuid>>>,
    /// The database snapshot the export reads: it holds the rows this snapshot sees.
    pub snapshot: String,
    /// The snapshot of the earlier export whose transactionTime `since` is: the export holds only
    /// rows that one did not see. `None`: `since` is compared with the rows' last update.
    pub since_snapshot: Option<String>,
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
/// `fhir_exports_one_at_a_time`: the caller answers 429. Its `transaction_time` is the database's
/// clock, not this instance's, and its snapshot the database's at that time (kept in
/// `fhir_export_marks`); a `since` that is an earlier export's transaction time reads from that
/// export's snapshot on.
pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &Export) -> QueryResult<Export> {
    use diesel::dsl::{now, sql};
    use diesel::sql_types::Text;
    conn.transaction(|conn| {
        let since_snapshot = match new.since {
            Some(since) => fhir_export_marks::table
                .filter(fhir_export_marks::clinic_id.eq(tenant.id()))
                .filter(fhir_export_marks::transaction_time.eq(since))
                .select(fhir_export_marks::snapshot)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        diesel::insert_into(fhir_exports::table)
            .values((fhir_exports::clinic_id.eq(tenant.id()), new))
            .execute(conn)?;
        let export = diesel::update(fhir_exports::table.filter(fhir_exports::id.eq(new.id)))
            .set((
                fhir_exports::transaction_time.eq(now),
                fhir_exports::snapshot.eq(sql::<Text>("pg_current_snapshot()::text")),
                fhir_exports::since_snapshot.eq(since_snapshot),
            ))
            .returning(Export::as_returning())
            .get_result::<Export>(conn)?;
        diesel::insert_into(fhir_export_marks::table)
            .values((
                fhir_export_marks::clinic_id.eq(tenant.id()),
                fhir_export_marks::transaction_time.eq(export.transaction_time),
                fhir_export_marks::snapshot.eq(&export.snapshot),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(export)
    })
}

/// The clinic's export that `owner` kicked off, if it has not expired.
pub fn get(conn: &mut PgConnection, tenant: Tenant, owner: Owner, id: Uuid) -> QueryResult<Export> {
    fhir_exports::table
        .filter(fhir_exports::clinic_id.eq(tenant.id()))
        .filter(fhir_exports::id.eq(id))
        .filter(fhir_exports::requested_by.eq(owner.id()))
        .filter(fhir_exports::requester_kind.eq(owner.kind()))
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

/// A completed export's file that `owner` kicked off: its type, body and the patients it holds.
pub fn file(
    conn: &mut PgConnection,
    tenant: Tenant,
    owner: Owner,
    export: Uuid,
    id: Uuid,
) -> QueryResult<(String, String, Vec<Uuid>)> {
    fhir_export_files::table
        .inner_join(fhir_exports::table)
        .filter(fhir_export_files::clinic_id.eq(tenant.id()))
        .filter(fhir_exports::requested_by.eq(owner.id()))
        .filter(fhir_exports::requester_kind.eq(owner.kind()))
        .filter(fhir_export_files::export_id.eq(export))
        .filter(fhir_export_files::id.eq(id))
        .filter(fhir_exports::status.eq("completed"))
        .filter(fhir_exports::expires_at.gt(diesel::dsl::now))
        .select((
            fhir_export_files::resource_type,
            fhir_export_files::body,
            fhir_export_files::patients,
        ))
        .first::<(String, String, Vec<Option<Uuid>>)>(conn)
        .map(|(kind, body, patients)| (kind, body, patients.into_iter().flatten().collect()))
}

/// Cancels an export that has not finished, or deletes a finished one (with its files); false if
/// there was none (or it was cancelled before).
pub fn cancel(
    conn: &mut PgConnection,
    tenant: Tenant,
    owner: Owner,
    id: Uuid,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let mine = fhir_exports::table
            .filter(fhir_exports::clinic_id.eq(tenant.id()))
            .filter(fhir_exports::id.eq(id))
            .filter(fhir_exports::requested_by.eq(owner.id()))
            .filter(fhir_exports::requester_kind.eq(owner.kind()));
        let Some(_) = mine
            .select(fhir_exports::id)
            .for_update()
            .first::<Uuid>(conn)
            .optional()?
        else {
            return Ok(false);
        };
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
            let finished = ["completed", "failed", "erased"];
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
    let rows: Vec<(ClinicId, Export)> = fhir_exports::table
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

/// A file the worker writes.
pub struct NewFile<'a> {
    pub resource_type: &'a str,
    pub seq: i32,
    pub count: i32,
    pub body: &'a str,
    /// The patients whose data it holds.
    pub patients: &'a [Uuid],
}

pub fn insert_file(
    conn: &mut PgConnection,
    tenant: Tenant,
    export: Uuid,
    file: NewFile,
) -> QueryResult<()> {
    diesel::insert_into(fhir_export_files::table)
        .values((
            fhir_export_files::id.eq(Uuid::new_v4()),
            fhir_export_files::export_id.eq(export),
            fhir_export_files::clinic_id.eq(tenant.id()),
            fhir_export_files::resource_type.eq(file.resource_type),
            fhir_export_files::seq.eq(file.seq),
            fhir_export_files::count.eq(file.count),
            fhir_export_files::body.eq(file.body),
            fhir_export_files::patients.eq(file.patients),
        ))
        .execute(conn)
        .map(drop)
}

/// Deletes every clinic's expired exports with their files; how many.
pub fn sweep_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(fhir_exports::table.filter(fhir_exports::expires_at.le(diesel::dsl::now)))
        .execute(conn)
}

/// Locks the clinic's unfinished exports until the transaction ends. An erasure takes this lock
/// before it looks for the patient's files, and the worker takes each export's row (by updating
/// its progress) before it checks for erasures and writes a file: so either the erasure sees the
/// file, or the worker sees the erasure.
pub fn lock_unfinished(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<()> {
    fhir_exports::table
        .filter(fhir_exports::clinic_id.eq(tenant.id()))
        .filter(fhir_exports::status.eq_any(["queued", "running"]))
        .select(fhir_exports::id)
        .for_update()
        .load::<Uuid>(conn)
        .map(drop)
}

/// Removes an erased patient from the clinic's exports: every export with a file holding them
/// (finished or running) loses all its files and is marked `erased` (its status answers 410; a
/// running one stops). How many exports. Call it in the erasure's transaction.
pub fn forget_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient: Uuid,
) -> QueryResult<usize> {
    lock_unfinished(conn, tenant)?;
    let holding: Vec<Uuid> = fhir_export_files::table
        .filter(fhir_export_files::clinic_id.eq(tenant.id()))
        .filter(fhir_export_files::patients.contains(vec![patient]))
        .select(fhir_export_files::export_id)
        .distinct()
        .load(conn)?;
    if holding.is_empty() {
        return Ok(0);
    }
    diesel::delete(
        fhir_export_files::table
            .filter(fhir_export_files::clinic_id.eq(tenant.id()))
            .filter(fhir_export_files::export_id.eq_any(&holding)),
    )
    .execute(conn)?;
    diesel::update(
        fhir_exports::table
            .filter(fhir_exports::clinic_id.eq(tenant.id()))
            .filter(fhir_exports::id.eq_any(&holding)),
    )
    .set((
        fhir_exports::status.eq("erased"),
        fhir_exports::progress.eq("erased"),
        fhir_exports::error.eq(Some(
            "this export held a patient whose data was erased since; ask for it again",
        )),
        fhir_exports::completed_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Which of these patients of the clinic were erased.
pub fn erased_among(
    conn: &mut PgConnection,
    tenant: Tenant,
    patients: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    if patients.is_empty() {
        return Ok(vec![]);
    }
    patient_erasures::table
        .filter(patient_erasures::clinic_id.eq(tenant.id()))
        .filter(patient_erasures::patient_id.eq_any(patients))
        .select(patient_erasures::patient_id)
        .load(conn)
}
