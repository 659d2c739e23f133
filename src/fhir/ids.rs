//! Observation ids. An Observation is one value of a row (a check-in's score of a symptom, or an
//! outcome's GAIS, satisfaction or Goodman & Baron grade), so its id names the row and the value.
//! A FHIR id holds at most 64 of `A-Z a-z 0-9 - .`: the row's UUID in 22 characters of that
//! alphabet, then the value's code (at most 40 characters, `_` written as `.`).

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{GeneralPurpose, general_purpose::NO_PAD};
use uuid::Uuid;

const ID_ALPHABET: Alphabet =
    match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") {
        Ok(a) => a,
        Err(_) => panic!("a 64-character alphabet"),
    };
const ENGINE: GeneralPurpose = GeneralPurpose::new(&ID_ALPHABET, NO_PAD);

/// The row an Observation comes from and the value of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationKey {
    /// The check-in's or the outcome's id.
    pub source: Uuid,
    /// The symptom's code, or `gais`, `satisfaction`, `goodman_baron`.
    pub code: String,
}

pub fn observation_id(key: &ObservationKey) -> String {
    format!(
        "{}{}",
        ENGINE.encode(key.source.as_bytes()),
        key.code.replace('_', ".")
    )
}

pub fn parse_observation_id(id: &str) -> Option<ObservationKey> {
    let (source, code) = (id.get(..22)?, id.get(22..)?);
    let bytes = ENGINE.decode(source).ok()?;
    let code = code.replace('.', "_");
    let valid = !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then_some(ObservationKey {
        source: Uuid::from_slice(&bytes).ok()?,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_stay_within_fhirs_limits() {
        let key = ObservationKey {
            source: Uuid::new_v4(),
            code: "a".repeat(39) + "_",
        };
        let id = observation_id(&key);
        assert!(id.len() <= 64, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        );
        assert_eq!(parse_observation_id(&id), Some(key));
        let gais = ObservationKey {
            source: Uuid::max(),
            code: "goodman_baron".into(),
        };
        assert_eq!(parse_observation_id(&observation_id(&gais)), Some(gais));
    }

    #[test]
    fn other_ids_are_not_observations() {
        assert_eq!(parse_observation_id(""), None);
        assert_eq!(parse_observation_id(&Uuid::new_v4().to_string()), None);
        let id = observation_id(&ObservationKey {
            source: Uuid::nil(),
            code: "redness".into(),
        });
        assert_eq!(parse_observation_id(&id[..22]), None);
        assert_eq!(parse_observation_id(&format!("{id}X")), None);
        assert_eq!(parse_observation_id("é"), None);
    }
}
