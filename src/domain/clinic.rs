//! A clinic's settings: the phone number patients call, and the hour its reminders go out; and the
//! short code by which staff who work at more than one clinic name the one they sign in to.

use rand::RngCore;

/// The hour of the clinic's day (18:00) after which a patient who has not checked in on a scheduled
/// day is reminded, unless the clinic chose another.
pub const DEFAULT_REMINDER_HOUR: i16 = 18;

/// A phone number in international form, `+` and 6-15 digits (E.164 allows 15): spaces and dashes
/// between the digits are allowed and dropped, so `+49 30 1234-5678` is kept as `+493012345678`,
/// which a phone can dial from a `tel:` link anywhere.
pub fn parse_phone(input: &str) -> Result<String, &'static str> {
    const RULE: &str =
        "must be + and 6-15 digits (spaces and dashes allowed), such as +49 30 1234 5678";
    let rest = input.trim().strip_prefix('+').ok_or(RULE)?;
    if rest.starts_with([' ', '-']) || rest.ends_with([' ', '-']) {
        return Err(RULE);
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return Err(RULE);
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if !(6..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(RULE);
    }
    Ok(format!("+{digits}"))
}

/// Whether `hour` is an hour of the day, 0-23.
pub fn is_hour(hour: i16) -> bool {
    (0..=23).contains(&hour)
}

/// Letters and digits that can't be mistaken for each other when read off a screen or paper (no
/// 0/O, 1/I/L, U/V), as in enrollment codes.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
/// The length of a clinic code: 30^6 (729 million) codes, easy to read out and type. A code names a
/// clinic and is not a secret: knowing it grants nothing.
pub const CODE_LEN: usize = 6;

/// A clinic's code, such as `K7QM4X`: unique, given when the clinic is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicCode(String);

impl ClinicCode {
    /// A new random code (unique only once stored: the caller retries on a collision).
    pub fn generate() -> ClinicCode {
        let mut rng = rand::rng();
        ClinicCode(
            (0..CODE_LEN)
                .map(|_| CODE_ALPHABET[(rng.next_u32() as usize) % CODE_ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// A code as typed: case, spaces and dashes don't matter.
    pub fn parse(input: &str) -> Result<ClinicCode, &'static str> {
        const RULE: &str = "must be the clinic's 6-character code, such as K7QM4X";
        if input.len() > 32 {
            return Err(RULE);
        }
        let code: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let known = |c: u8| CODE_ALPHABET.contains(&c);
        if code.len() != CODE_LEN || !code.bytes().all(known) {
            return Err(RULE);
        }
        Ok(ClinicCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClinicCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_codes_are_read_as_typed_and_generated_from_the_alphabet() {
        assert_eq!(ClinicCode::parse(" k7qm-4x ").unwrap().as_str(), "K7QM4X");
        for bad in [
            "", "K7QM4", "K7QM4XZ", "K7QM4O", "K7QM41", "K7QM4Ü", "K7QM4_",
        ] {
            assert!(ClinicCode::parse(bad).is_err(), "{bad:?}");
        }
        for _ in 0..100 {
            let code = ClinicCode::generate();
            assert_eq!(ClinicCode::parse(code.as_str()), Ok(code));
        }
    }

    #[test]
    fn phones_are_kept_as_plus_and_digits() {
        assert_eq!(parse_phone("+49 30 1234-5678"), Ok("+493012345678".into()));
        assert_eq!(parse_phone(" +1 555 0100 "), Ok("+15550100".into()));
        // The shortest and longest allowed, beside one digit fewer and one more.
        assert_eq!(parse_phone("+123456"), Ok("+123456".into()));
        assert!(parse_phone("+12345").is_err());
        assert_eq!(
            parse_phone("+123456789012345"),
            Ok("+123456789012345".into())
        );
        assert!(parse_phone("+1234567890123456").is_err());
    }

    #[test]
    fn anything_but_an_international_number_is_refused() {
        for bad in [
            "030 1234 5678",
            "+",
            "",
            "+49 (30) 1234",
            "+49/30/1234",
            "+49 30 1234 x5",
            "+ 49301234",
            "+4930123-",
            "+0301234567",
            "+٤٩٣٠١٢٣٤",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hours_run_from_0_to_23() {
        assert!(is_hour(0) && is_hour(23));
        assert!(!is_hour(24) && !is_hour(-1));
    }
}
