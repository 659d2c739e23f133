//! The clinical rules as plain types and functions: codes, scales, schedules, validation.
//! Nothing here knows about HTTP or SQL, so unit tests reach every rule directly.

pub mod alerts;
pub mod audit;
pub mod check_in;
pub mod clinic;
pub mod codes;
pub mod ids;
pub mod logrank;
pub mod outcomes;
pub mod people;
pub mod photos;
pub mod recovery;
pub mod reminders;
pub mod schedule;
pub mod sessions;
pub mod smart;
pub mod symptoms;
pub mod targets;
pub mod text;
pub mod treatment;
pub mod web_push;
pub mod webhooks;
pub mod worklist;

use serde::Serialize;

/// One field that failed validation. `field` is a dotted path into the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The fields of one request that broke a rule, collected so the client hears of all at once.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records `field` as wrong unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    pub fn into_result(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// Checks an optional free text: not blank when given, and at most `max` characters.
pub fn check_text(invalid: &mut Invalid, field: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        if text::is_blank(v) {
            invalid.add(field, "must not be blank");
        } else if v.chars().count() > max {
            invalid.add(field, format!("must be at most {max} characters"));
        }
    }
}
