//! Photos' rows: what is known of each photo and its objects' keys (the bytes are in the photo
//! store), with the day of the check-in it came with.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::fhir::{Filter, Seen, filtered};
use super::schema::{check_ins, photos};
use super::{Cursor, PageRequest, Tenant};
use crate::domain::ids::{CheckInId, PatientId, StaffId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = photos, check_for_backend(diesel::pg::Pg))]
pub struct Photo {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub check_in_id: CheckInId,
    pub storage_key: String,
    pub thumbnail_key: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub clinical_use_consented_at: DateTime<Utc>,
    pub before_after_consented_at: Option<DateTime<Utc>>,
    pub before_after_withdrawn_at: Option<DateTime<Utc>>,
    pub flagged_by: Option<StaffId>,
    pub flagged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A photo and the day (since treatment) of its check-in.
pub type WithDay = (Photo, i32);

#[derive(Debug, Insertable)]
#[diesel(table_name = photos)]
pub struct NewPhoto {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub check_in_id: CheckInId,
    pub storage_key: String,
    pub thumbnail_key: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub clinical_use_consented_at: DateTime<Utc>,
    pub before_after_consented_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &NewPhoto) -> QueryResult<Photo> {
    diesel::insert_into(photos::table)
        .values((photos::clinic_id.eq(tenant.id()), new))
        .returning(Photo::as_returning())
        .get_result(conn)
}

/// The photo, if it is of this check-in in this clinic.
pub fn get(
    conn: &mut PgConnection,
    tenant: Tenant,
    check_in_id: CheckInId,
    id: Uuid,
) -> QueryResult<Option<WithDay>> {
    photos::table
        .inner_join(check_ins::table)
        .filter(photos::clinic_id.eq(tenant.id()))
        .filter(photos::check_in_id.eq(check_in_id))
        .filter(photos::id.eq(id))
        .select((Photo::as_select(), check_ins::day))
        .first(conn)
        .optional()
}

/// A photo as FHIR shows it (a Media): the photo and the treatment its check-in follows.
pub type MediaRow = (Photo, Uuid);

/// A page of the clinic's photos for FHIR, in the order of their upload (a photo's Media never
/// changes after it: its creation is its last update), created (`criteria.at`) when asked.
pub fn media(conn: &mut PgConnection, tenant: Tenant, f: Filter) -> QueryResult<Vec<MediaRow>> {
    use diesel::sql_types::Text;
    let q = photos::table
        .inner_join(check_ins::table)
        .select((Photo::as_select(), check_ins::treatment_id));
    let mut q = filtered!(
        q,
        tenant,
        f,
        "photos",
        photos::clinic_id,
        photos::patient_id,
        photos::created_at,
        photos::id
    );
    if let Some(from) = f.criteria.at.from {
        q = q.filter(photos::created_at.ge(from));
    }
    if let Some(to) = f.criteria.at.to {
        q = q.filter(photos::created_at.lt(to));
    }
    q.load(conn)
}

/// One photo of the clinic, for FHIR.
pub fn media_one(conn: &mut PgConnection, tenant: Tenant, id: Uuid) -> QueryResult<MediaRow> {
    photos::table
        .inner_join(check_ins::table)
        .filter(photos::clinic_id.eq(tenant.id()))
        .filter(photos::id.eq(id))
        .select((Photo::as_select(), check_ins::treatment_id))
        .first(conn)
}

/// A patient's photos, oldest first (day 0 before the latest).
pub fn page_of_patient(
    conn: &mut PgConnection,
    tenant: Tenant,
    patient_id: PatientId,
    page: PageRequest,
) -> QueryResult<Vec<WithDay>> {
    let mut query = photos::table
        .inner_join(check_ins::table)
        .filter(photos::clinic_id.eq(tenant.id()))
        .filter(photos::patient_id.eq(patient_id))
        .select((Photo::as_select(), check_ins::day))
        .order((photos::created_at.asc(), photos::id.asc()))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            photos::created_at
                .gt(at)
                .or(photos::created_at.eq(at).and(photos::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Gives (`at`) or withdraws (None) the before-and-after consent; a withdrawal is dated.
pub fn set_before_after(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: Uuid,
    consented_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let target = photos::table
        .filter(photos::clinic_id.eq(tenant.id()))
        .filter(photos::id.eq(id));
    match consented_at {
        Some(at) => diesel::update(target)
            .set(photos::before_after_consented_at.eq(at))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                photos::before_after_consented_at.eq(None::<DateTime<Utc>>),
                photos::before_after_withdrawn_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Flags the photo for a colleague's review (`by` and `at`), or clears the flag (None).
pub fn set_flag(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: Uuid,
    flag: Option<(StaffId, DateTime<Utc>)>,
) -> QueryResult<()> {
    diesel::update(
        photos::table
            .filter(photos::clinic_id.eq(tenant.id()))
            .filter(photos::id.eq(id)),
    )
    .set((
        photos::flagged_by.eq(flag.map(|f| f.0)),
        photos::flagged_at.eq(flag.map(|f| f.1)),
    ))
    .execute(conn)
    .map(drop)
}
