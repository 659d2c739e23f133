//! Clinics: created from the command line with their first admin.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::Tenant;
use super::schema::clinics;
use super::staff::NewStaff;
use crate::domain::ids::ClinicId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clinics)]
pub struct Clinic {
    pub id: ClinicId,
    pub name: String,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub contact_phone: Option<String>,
    pub reminder_hour: i16,
    /// The clinic's short code ([`crate::domain::clinic::ClinicCode`]), unique, named at sign-in by
    /// staff who work at more than one clinic.
    pub code: String,
}

/// Changes to a clinic's settings: a field left out stays as it is.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = clinics)]
pub struct Changes {
    pub contact_phone: Option<Option<String>>,
    pub reminder_hour: Option<i16>,
}

impl Clinic {
    /// The clinic's time zone, in which its days are counted.
    pub fn tz(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.timezone
            .parse()
            .map_err(|_| anyhow::anyhow!("the clinic's time zone {:?} is not known", self.timezone))
    }
}

/// Creates a clinic and its first admin in one transaction: where a tenant begins. The clinic's
/// code is `clinic.code` unless another clinic has it, then a new one; the clinic as stored.
pub fn create_with_admin(
    conn: &mut PgConnection,
    clinic: &Clinic,
    admin: &NewStaff,
) -> QueryResult<Clinic> {
    conn.transaction(|conn| {
        let mut clinic = clinic.clone();
        // One collision in 729 million codes per clinic; a few tries are plenty.
        for _ in 0..8 {
            let stored = diesel::insert_into(clinics::table)
                .values(&clinic)
                .on_conflict(clinics::code)
                .do_nothing()
                .execute(conn)?;
            if stored == 1 {
                super::staff::insert(conn, Tenant::new(clinic.id), admin)?;
                return Ok(clinic);
            }
            clinic.code = crate::domain::clinic::ClinicCode::generate().to_string();
        }
        Err(diesel::result::Error::RollbackTransaction)
    })
}

/// The clinic with this code, if any: for a sign-in that names it.
pub fn id_by_code(conn: &mut PgConnection, code: &str) -> QueryResult<Option<ClinicId>> {
    clinics::table
        .filter(clinics::code.eq(code))
        .select(clinics::id)
        .first(conn)
        .optional()
}

pub fn exists(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(clinics::table.find(tenant.id()))).get_result(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Clinic> {
    clinics::table
        .find(tenant.id())
        .select(Clinic::as_select())
        .first(conn)
}

/// Changes the clinic's settings; the clinic as it is then.
pub fn update(conn: &mut PgConnection, tenant: Tenant, changes: &Changes) -> QueryResult<Clinic> {
    if changes.contact_phone.is_none() && changes.reminder_hour.is_none() {
        return get(conn, tenant);
    }
    diesel::update(clinics::table.find(tenant.id()))
        .set(changes)
        .returning(Clinic::as_select())
        .get_result(conn)
}

/// Every clinic: for the background work that serves them all, which acts for each in turn.
pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Clinic>> {
    clinics::table
        .order(clinics::id)
        .select(Clinic::as_select())
        .load(conn)
}
