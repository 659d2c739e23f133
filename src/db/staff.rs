//! Staff accounts: admins and clinicians.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::staff;
use super::{Cursor, PageRequest, Tenant};
use crate::domain::ids::{ClinicId, StaffId};
use crate::domain::people::StaffRole;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff)]
pub struct Staff {
    pub id: StaffId,
    pub clinic_id: ClinicId,
    pub email: String,
    pub password_hash: String,
    pub role: StaffRole,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// A deactivated account can't sign in; its sessions ended when it was deactivated.
    pub active: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = staff)]
pub struct NewStaff {
    pub id: StaffId,
    pub email: String,
    pub password_hash: String,
    pub role: StaffRole,
    pub name: String,
}

pub fn insert(conn: &mut PgConnection, tenant: Tenant, new: &NewStaff) -> QueryResult<Staff> {
    diesel::insert_into(staff::table)
        .values((staff::clinic_id.eq(tenant.id()), new))
        .returning(Staff::as_returning())
        .get_result(conn)
}

/// Login is by email alone, before any clinic is known.
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Staff>> {
    staff::table
        .filter(staff::email.eq(email))
        .select(Staff::as_select())
        .first(conn)
        .optional()
}

/// Every clinic's staff account with this email (an email is unique within a clinic only).
pub fn all_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Vec<Staff>> {
    staff::table
        .filter(staff::email.eq(email))
        .select(Staff::as_select())
        .order(staff::id)
        .load(conn)
}

pub fn get(conn: &mut PgConnection, tenant: Tenant, id: StaffId) -> QueryResult<Staff> {
    staff::table
        .filter(staff::clinic_id.eq(tenant.id()).and(staff::id.eq(id)))
        .select(Staff::as_select())
        .first(conn)
}

pub fn page(conn: &mut PgConnection, tenant: Tenant, page: PageRequest) -> QueryResult<Vec<Staff>> {
    let mut query = staff::table
        .filter(staff::clinic_id.eq(tenant.id()))
        .select(Staff::as_select())
        .order((staff::created_at, staff::id))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(Cursor { at, id }) = page.after {
        query = query.filter(
            staff::created_at
                .gt(at)
                .or(staff::created_at.eq(at).and(staff::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Activates or deactivates a staff member; the updated row. Deactivating ends their unused
/// password-reset tokens too: reactivated, they need a new one.
pub fn set_active(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: StaffId,
    active: bool,
) -> QueryResult<Staff> {
    use super::schema::password_resets;
    if !active {
        diesel::update(
            password_resets::table
                .filter(password_resets::clinic_id.eq(tenant.id()))
                .filter(password_resets::staff_id.eq(id))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(diesel::dsl::now)),
        )
        .set(password_resets::expires_at.eq(diesel::dsl::now))
        .execute(conn)?;
    }
    diesel::update(staff::table.filter(staff::clinic_id.eq(tenant.id()).and(staff::id.eq(id))))
        .set(staff::active.eq(active))
        .returning(Staff::as_returning())
        .get_result(conn)
}

/// How many active admins the clinic has, counted with their rows locked, so that two admins
/// deactivating each other at once can't leave the clinic without one.
pub fn lock_active_admins(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Vec<StaffId>> {
    staff::table
        .filter(staff::clinic_id.eq(tenant.id()))
        .filter(staff::role.eq(StaffRole::Admin))
        .filter(staff::active.eq(true))
        .select(staff::id)
        .for_update()
        .load(conn)
}

pub fn set_password_hash(
    conn: &mut PgConnection,
    tenant: Tenant,
    id: StaffId,
    password_hash: &str,
) -> QueryResult<()> {
    diesel::update(staff::table.filter(staff::clinic_id.eq(tenant.id()).and(staff::id.eq(id))))
        .set(staff::password_hash.eq(password_hash))
        .execute(conn)
        .map(drop)
}
