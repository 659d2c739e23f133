//! When a patient is reminded to check in: on a scheduled day without a check-in, once the clinic's
//! clock has passed its reminder hour; and what the reminder says, in the patient's language.

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::schedule::day_of;

/// One treatment as the reminder job sees it.
#[derive(Debug, Clone, Copy)]
pub struct Treatment<'a> {
    pub performed_at: DateTime<Utc>,
    /// The protocol's schedule: days since the treatment.
    pub check_in_days: &'a [i32],
    /// Whether the patient's phone is enrolled (a session that still stands).
    pub enrolled: bool,
}

/// The day since the treatment for which a reminder is due at `now`, if one is: today (in the
/// clinic's time zone) is a scheduled day, the phone is enrolled, the clinic's clock has reached
/// `reminder_hour`, and no check-in came for today. Whether one was sent already is not asked here:
/// the job records each day's reminder once.
pub fn due(
    treatment: Treatment,
    tz: Tz,
    reminder_hour: i16,
    now: DateTime<Utc>,
    checked_in: impl Fn(i32) -> bool,
) -> Option<i32> {
    if !treatment.enrolled || treatment.performed_at > now || !hour_reached(tz, reminder_hour, now)
    {
        return None;
    }
    let today = day_of(now, treatment.performed_at, tz);
    (treatment.check_in_days.contains(&today) && !checked_in(today)).then_some(today)
}

/// Whether the clinic's clock has reached `reminder_hour` today at `now`: before it, no reminder
/// of the clinic's is due.
pub fn hour_reached(tz: Tz, reminder_hour: i16, now: DateTime<Utc>) -> bool {
    i16::try_from(now.with_timezone(&tz).hour()).is_ok_and(|hour| hour >= reminder_hour)
}

/// A language the reminder is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    German,
}

impl Language {
    /// The first supported language of a list in `Accept-Language` form (`de-DE,de;q=0.9,en;q=0.8`)
    /// or a single tag (`de`); None when none is supported. Weights are read as the order given,
    /// which is how browsers send them.
    pub fn from_tags(tags: &str) -> Option<Language> {
        tags.split(',').find_map(|tag| {
            let primary = tag.split(';').next()?.trim().split(['-', '_']).next()?;
            match primary.to_ascii_lowercase().as_str() {
                "en" => Some(Language::English),
                "de" => Some(Language::German),
                _ => None,
            }
        })
    }

    /// The language `as_str` writes, exactly; None for anything else (a stored value, never a
    /// client's list: that is `from_tags`).
    pub fn parse(text: &str) -> Option<Language> {
        [Language::English, Language::German]
            .into_iter()
            .find(|l| l.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
        }
    }
}

/// What the phone shows: the Web Push message's payload, which the patient's app turns into a
/// notification that opens `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub url: &'static str,
}

/// The reminder to check in, in `language`.
pub fn notification(language: Language) -> Notification {
    let (title, body) = match language {
        Language::English => (
            "Time for your check-in",
            "You haven't checked in today. It takes a minute: how is your skin?",
        ),
        Language::German => (
            "Zeit für Ihren Check-in",
            "Sie haben heute noch nicht eingecheckt. Es dauert eine Minute: Wie geht es Ihrer Haut?",
        ),
    };
    Notification {
        kind: "check_in.due",
        title,
        body,
        url: "/app",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_language_reads_back_as_written_and_a_tag_list_does_not() {
        for l in [Language::English, Language::German] {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        assert_eq!(Language::parse("de-DE"), None);
        assert_eq!(Language::parse("fr"), None);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const BERLIN: Tz = chrono_tz::Europe::Berlin;
    const SCHEDULE: [i32; 4] = [0, 1, 2, 7];

    /// Treated on 20 November, 10:00 in Berlin; enrolled.
    fn treatment() -> Treatment<'static> {
        Treatment {
            performed_at: at("2026-11-20T09:00:00Z"),
            check_in_days: &SCHEDULE,
            enrolled: true,
        }
    }

    #[test]
    fn due_from_the_reminder_hour_of_the_clinics_clock() {
        // 22 November (day 2): 17:59 and 18:00 in Berlin are 16:59 and 17:00 UTC.
        let none = |_| false;
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-22T16:59:59Z"), none),
            None
        );
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-22T17:00:00Z"), none),
            Some(2)
        );
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-22T22:59:59Z"), none),
            Some(2)
        );
        // Midnight in Berlin is the next day, day 3, which is not scheduled.
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-22T23:00:00Z"), none),
            None
        );
        // Another hour moves it.
        assert_eq!(
            due(treatment(), BERLIN, 19, at("2026-11-22T17:59:00Z"), none),
            None
        );
        assert_eq!(
            due(treatment(), BERLIN, 19, at("2026-11-22T18:00:00Z"), none),
            Some(2)
        );
        // In UTC the same instant is 17:00, not yet 18:00.
        assert_eq!(
            due(treatment(), Tz::UTC, 18, at("2026-11-22T17:00:00Z"), none),
            None
        );
    }

    #[test]
    fn not_due_once_checked_in_that_day() {
        let now = at("2026-11-22T18:00:00Z");
        assert_eq!(due(treatment(), BERLIN, 18, now, |d| d == 2), None);
        // A check-in on another day doesn't count for today.
        assert_eq!(due(treatment(), BERLIN, 18, now, |d| d == 1), Some(2));
    }

    #[test]
    fn not_due_on_an_unscheduled_day() {
        let none = |_| false;
        // Day 6 is not scheduled, day 7 is.
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-26T18:00:00Z"), none),
            None
        );
        assert_eq!(
            due(treatment(), BERLIN, 18, at("2026-11-27T18:00:00Z"), none),
            Some(7)
        );
        // Before the treatment, nothing.
        assert_eq!(
            due(treatment(), BERLIN, 0, at("2026-11-20T08:00:00Z"), none),
            None
        );
    }

    #[test]
    fn not_due_without_an_enrolled_phone() {
        let now = at("2026-11-22T18:00:00Z");
        let unenrolled = Treatment {
            enrolled: false,
            ..treatment()
        };
        assert_eq!(due(unenrolled, BERLIN, 18, now, |_| false), None);
        assert_eq!(due(treatment(), BERLIN, 18, now, |_| false), Some(2));
    }

    #[test]
    fn the_language_is_the_first_supported_one() {
        assert_eq!(
            Language::from_tags("de-DE,de;q=0.9,en;q=0.8"),
            Some(Language::German)
        );
        assert_eq!(
            Language::from_tags("fr-FR, en-GB;q=0.8"),
            Some(Language::English)
        );
        assert_eq!(Language::from_tags("de"), Some(Language::German));
        assert_eq!(Language::from_tags("fr, es"), None);
        assert_eq!(Language::from_tags(""), None);
        assert_eq!(
            notification(Language::German).title,
            "Zeit für Ihren Check-in"
        );
        assert_eq!(notification(Language::English).url, "/app");
    }
}
