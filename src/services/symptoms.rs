//! Adding an item of the clinic's own to its symptom catalogue.

use diesel::PgConnection;

use super::Error;
use crate::db::{self, Tenant};
use crate::domain::Invalid;
use crate::domain::symptoms::{MAX_CLINIC_ITEMS, SymptomKind, check_new_item};

/// An item as the clinic describes it.
pub struct NewItem {
    pub code: String,
    pub label: String,
    pub kind: SymptomKind,
}

/// Adds the item to the clinic's catalogue, unless a default has its code or the clinic has
/// [`MAX_CLINIC_ITEMS`] of its own already (a conflict).
pub fn add(
    conn: &mut PgConnection,
    tenant: Tenant,
    item: NewItem,
) -> Result<db::symptoms::Symptom, Error> {
    let catalogue = db::symptoms::catalogue(conn, tenant)?;
    let defaults: Vec<&str> = catalogue
        .iter()
        .filter(|s| s.clinic_id.is_none())
        .map(|s| s.code.as_str())
        .collect();
    let mut invalid = Invalid::default();
    check_new_item(&mut invalid, &item.code, &item.label);
    invalid.into_result()?;
    // A valid item that the catalogue refuses: the state conflicts with it, not the request.
    // (The clinic's own items with this code are refused by the unique index.)
    if defaults.contains(&item.code.as_str()) {
        return Err(Error::Conflict(
            "a default item has this code; defaults can't be redefined".into(),
        ));
    }
    if catalogue.len() - defaults.len() >= MAX_CLINIC_ITEMS {
        return Err(Error::Conflict(format!(
            "the clinic has {MAX_CLINIC_ITEMS} items of its own already"
        )));
    }
    Ok(db::symptoms::insert(
        conn,
        tenant,
        &item.code,
        crate::domain::text::trim(&item.label),
        item.kind.as_str(),
    )?)
}
