//! What makes a check-in acceptable.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::Invalid;

/// How far ahead of the server's clock a phone's clock may run.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
pub const MAX_NOTE_CHARS: usize = 2000;

/// Times are kept to the microsecond, as PostgreSQL stores them, so a retry compares equal.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}

/// A check-in can't be recorded before its treatment, nor later than now (allowing for clock skew).
pub fn check_recorded_at(
    invalid: &mut Invalid,
    recorded_at: DateTime<Utc>,
    performed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    invalid.check(
        recorded_at >= performed_at,
        "recorded_at",
        "is before the treatment was performed",
    );
    invalid.check(
        recorded_at <= now + CLOCK_SKEW,
        "recorded_at",
        "is more than 5 minutes in the future",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_at_must_fall_between_treatment_and_now() {
        let now = Utc::now();
        let performed = now - Duration::days(2);
        let mut inv = Invalid::default();
        check_recorded_at(&mut inv, performed, performed, now);
        check_recorded_at(&mut inv, now + Duration::minutes(4), performed, now);
        assert!(inv.0.is_empty());
        check_recorded_at(&mut inv, performed - Duration::seconds(1), performed, now);
        check_recorded_at(&mut inv, now + Duration::minutes(6), performed, now);
        assert_eq!(inv.0.len(), 2);
    }

    #[test]
    fn nanoseconds_are_dropped() {
        let at = DateTime::parse_from_rfc3339("2026-11-21T08:30:00.123456789Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            truncate_to_micros(at).to_rfc3339(),
            "2026-11-21T08:30:00.123456+00:00"
        );
    }
}
