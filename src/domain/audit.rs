//! How the audit trail records a request that reads or changes patient data: what it did, to which
//! resource, and how to tell which patient.

use serde::{Deserialize, Serialize};

/// What a request did with patient data (the API lists it as `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    List,
    Read,
    Create,
    Update,
    Acknowledge,
    Resolve,
    Deactivate,
    Reactivate,
    ChangePassword,
    IssuePasswordReset,
    ResetPassword,
    RevokeSession,
    Unenroll,
    Export,
    Erase,
    Delete,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::List,
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Acknowledge,
        Action::Resolve,
        Action::Deactivate,
        Action::Reactivate,
        Action::ChangePassword,
        Action::IssuePasswordReset,
        Action::ResetPassword,
        Action::RevokeSession,
        Action::Unenroll,
        Action::Export,
        Action::Erase,
        Action::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::ChangePassword => "change_password",
            Action::IssuePasswordReset => "issue_password_reset",
            Action::ResetPassword => "reset_password",
            Action::RevokeSession => "revoke_session",
            Action::Unenroll => "unenroll",
            Action::Export => "export",
            Action::Erase => "erase",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// What a request of this action did, given its status: a create answered 200 replaced what
    /// was there (an outcome for the same key, say), so it is recorded as an update.
    pub fn as_done(self, status: u16) -> Action {
        match (self, status) {
            (Action::Create, 200) => Action::Update,
            (action, _) => action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_parses_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("destroy"), None);
    }

    #[test]
    fn a_create_answered_200_is_an_update() {
        assert_eq!(Action::Create.as_done(200), Action::Update);
        assert_eq!(Action::Create.as_done(201), Action::Create);
        assert_eq!(Action::Read.as_done(200), Action::Read);
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
    /// A query parameter: a list filtered by a patient is recorded under that patient even
    /// when it finds nothing, since an empty answer still tells the reader something of them.
    Query(&'static str),
    None,
}

/// The table whose row names the patient a request was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Patient,
    /// A patient, or one whose data was erased (the erasure's own record names them).
    ErasedPatient,
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
