//! What a request did with patient data, as the audit trail records it.

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
