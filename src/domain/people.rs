//! Rules for the people the service knows: staff accounts and patients.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::Invalid;

/// A staff account's role, as stored and as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Admin,
    Clinician,
}

impl StaffRole {
    pub const ALL: [StaffRole; 2] = [StaffRole::Admin, StaffRole::Clinician];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Clinician => "clinician",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who a signed-in user is: a staff role, or a patient (tokens, sessions and SMART grants carry it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Clinician,
    Patient,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clinician => "clinician",
            Role::Patient => "patient",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Clinician, Role::Patient]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// The role's letter in the route table's roles (`a`, `c`, `p`).
    pub fn letter(self) -> char {
        match self {
            Role::Admin => 'a',
            Role::Clinician => 'c',
            Role::Patient => 'p',
        }
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Emails are compared case-insensitively, so they are stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The rule the API document states as a pattern: something, `@`, and a domain with a dot inside;
/// no white space (as JSON Schema's `\s` counts it); at most 254 characters.
pub fn check_email(invalid: &mut Invalid, field: &str, email: &str) {
    let ok = email.chars().count() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(super::text::is_schema_space);
    invalid.check(ok, field, "must be an email address");
}

/// At least 12 characters, and not guessable: zxcvbn's score of 3 or more (at least 10^8 guesses),
/// counting the account's own email and name as known words.
pub fn check_password(invalid: &mut Invalid, field: &str, password: &str, known: &[&str]) {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        invalid.add(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        );
    } else if n > MAX_PASSWORD_CHARS {
        invalid.add(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        );
    } else if zxcvbn::zxcvbn(password, known).score() < zxcvbn::Score::Three {
        invalid.add(
            field,
            "is too easy to guess: use a few unrelated words or more varied characters",
        );
    }
}

/// A clinic's record number for a patient: printable, no surrounding blanks, at most 64 characters.
pub fn check_external_ref(invalid: &mut Invalid, field: &str, external_ref: &str) {
    let ok = !external_ref.is_empty()
        && external_ref.trim() == external_ref
        && external_ref.chars().count() <= 64
        && !external_ref.chars().any(super::text::is_hidden);
    invalid.check(
        ok,
        field,
        "must be 1-64 printable characters without surrounding blanks, zero-width or \
         text-direction characters",
    );
}

pub fn check_birth_year(invalid: &mut Invalid, field: &str, year: i32, today: chrono::NaiveDate) {
    let ok = (1900..=today.year()).contains(&year);
    invalid.check(ok, field, "must be a year from 1900 to this year");
}

pub fn check_fitzpatrick(invalid: &mut Invalid, field: &str, skin_type: i16) {
    invalid.check(
        (1..=6).contains(&skin_type),
        field,
        "must be a Fitzpatrick type from 1 to 6",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let mut inv = Invalid::default();
        check_email(&mut inv, "a", "nurse@clinic.example");
        assert!(inv.0.is_empty());
        for bad in [
            "nurse",
            "@clinic.example",
            "nurse@clinic",
            "nurse@.example",
            "a b@c.de",
        ] {
            let mut inv = Invalid::default();
            check_email(&mut inv, "email", bad);
            assert_eq!(inv.0.len(), 1, "{bad}");
        }
        assert_eq!(
            normalize_email("  Nurse@Clinic.Example "),
            "nurse@clinic.example"
        );
    }

    #[test]
    fn emails_follow_the_documented_pattern() {
        for ok in ["dr.lee@clinic.example", "a@b.c", "\"x\u{85}y\"@b.c"] {
            let mut inv = Invalid::default();
            check_email(&mut inv, "email", ok);
            assert!(inv.0.is_empty(), "{ok}");
        }
        for bad in [
            "a@b",
            "@b.c",
            "a@.b.c",
            "a@b.c.",
            "a b@c.d",
            "a\u{feff}@b.c",
        ] {
            let mut inv = Invalid::default();
            check_email(&mut inv, "email", bad);
            assert_eq!(inv.0.len(), 1, "{bad}");
        }
    }

    #[test]
    fn passwords_have_a_minimum_length_in_characters() {
        let mut inv = Invalid::default();
        check_password(&mut inv, "password", "éééééé-vélo", &[]);
        assert_eq!(inv.0.len(), 1);
        let mut inv = Invalid::default();
        check_password(&mut inv, "password", "vélo-gâteau-étoile", &[]);
        assert!(inv.0.is_empty(), "{:?}", inv.0);
    }

    #[test]
    fn guessable_passwords_are_refused() {
        for weak in [
            "password1234",
            "aaaaaaaaaaaaaaaa",
            "123456789012",
            "qwertyuiop12",
            "dr.lee@clinic.example",
        ] {
            let mut inv = Invalid::default();
            check_password(
                &mut inv,
                "password",
                weak,
                &["dr.lee@clinic.example", "Dr. Lee"],
            );
            assert_eq!(inv.0.len(), 1, "{weak}");
        }
        // The tests' password, and those of the README and the API document's examples.
        for strong in [
            "correct-horse-battery",
            "quiet-heron-lantern-42",
            "maple-orbit-canvas-17",
        ] {
            let mut inv = Invalid::default();
            check_password(&mut inv, "password", strong, &[]);
            assert!(inv.0.is_empty(), "{strong}");
        }
    }
}
