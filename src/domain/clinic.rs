//! A clinic's settings: the phone number patients call, and the hour its reminders go out.

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

#[cfg(test)]
mod tests {
    use super::*;

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
