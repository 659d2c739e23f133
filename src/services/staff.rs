//! Adding a staff account: checked and its password hashed here, for the API and the command line.

use diesel::PgConnection;

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::Invalid;
use crate::domain::ids::StaffId;
use crate::domain::people::{StaffRole, check_email, check_password, normalize_email};
use crate::web::auth;

/// A staff account to add, as an admin (or the command line) gives it.
pub struct NewStaff {
    pub email: String,
    pub password: String,
    pub role: StaffRole,
    pub name: String,
}

/// Checks a new account and hashes its password (slow by design: call it off the async workers).
pub fn account(new: &NewStaff) -> Result<db::staff::NewStaff, Error> {
    let email = normalize_email(&new.email);
    let mut invalid = Invalid::default();
    check_email(&mut invalid, "email", &email);
    check_password(
        &mut invalid,
        "password",
        &new.password,
        &[&new.email, &new.name],
    );
    let name = crate::domain::text::trim(&new.name);
    invalid.check(
        (1..=120).contains(&name.chars().count()),
        "name",
        "must be 1-120 characters",
    );
    crate::domain::text::check_visible(&mut invalid, "name", name);
    invalid.into_result()?;
    Ok(db::staff::NewStaff {
        id: StaffId::new_v4(),
        email,
        password_hash: auth::hash_password(&new.password)?,
        role: new.role,
        name: name.into(),
    })
}

/// Adds a staff member to the clinic; a 409 when the email is staff there already.
pub fn create(
    conn: &mut PgConnection,
    tenant: Tenant,
    new: &NewStaff,
) -> Result<db::staff::Staff, Error> {
    let row = account(new)?;
    Ok(db::staff::insert(conn, tenant, &row)?)
}
