//! Who is due to check in today and hasn't yet: the front desk's list of patients to nudge, by the
//! one definition of "due today" the dashboard and the patient list use (`views::treatments_today`).

use std::cmp::Reverse;

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use super::Store;
use super::views::{TreatmentToday, catalogue, treatments_today};
use crate::db::{self, Tenant};
use crate::domain::schedule::local_date;

/// The clinic's treatments with a check-in due today (by its calendar, as of `now`) and none made,
/// longest in follow-up first.
pub fn due_today(
    conn: &mut PgConnection,
    store: &Store,
    tenant: Tenant,
    now: DateTime<Utc>,
) -> Result<Vec<TreatmentToday>, db::Error> {
    let today = local_date(now, db::clinics::get(conn, tenant)?.tz()?);
    let protocols = db::protocols::all(conn, tenant)?;
    // The whole catalogue, though only "due" is read here: the dashboard's and the patient list's
    // answers are kept for the same codes, and reused here.
    let codes = catalogue(conn, tenant)?;
    store.refresh(conn)?;
    let mut due: Vec<_> = treatments_today(store, &protocols, &codes, today)
        .into_iter()
        .filter(|t| t.due_today && !t.checked_in_today)
        .collect();
    due.sort_by_key(|t| (Reverse(t.day), t.treatment_id));
    Ok(due)
}
