//! How the audit trail records a request that reads or changes patient data: what it did, to which
//! resource, and how to tell which patient.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// What a request did with patient data (the API lists it as `action`). A plain comment: as a doc
// comment it would change the published document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    List,
    Read,
    Create,
    Update,
    Acknowledge,
    Resolve,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::List,
            Action::Read,
            Action::Create,
            Action::Update,
            Action::Acknowledge,
            Action::Resolve,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// How a request came out, as the trail records it, by its status.
pub fn outcome(status: u16) -> &'static str {
    match status {
        200..=299 => "success",
        401 | 403 => "denied",
        404 => "not_found",
        400..=499 => "rejected",
        _ => "failed",
    }
}

/// Where an audited request's resource id comes from.
#[derive(Debug, Clone, Copy)]
pub enum Id {
    /// A path parameter.
    Path(&'static str),
    /// The `Location` of what the request created.
    Created,
    None,
}

/// The table whose row names the patient a request was about.
#[derive(Debug, Clone, Copy)]
pub enum Lookup {
    Patient,
    Treatment,
    CheckIn,
    Alert,
}

/// How a route that touches patient data is recorded; the patient is found by looking an id up in
/// a table (or is the caller, for a patient).
#[derive(Debug, Clone, Copy)]
pub struct Audit {
    pub action: Action,
    pub resource_type: &'static str,
    pub resource_id: Id,
    pub patient_of: Option<(Lookup, Id)>,
}
