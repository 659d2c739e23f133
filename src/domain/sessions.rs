//! How long a session lasts: refreshing slides a refresh token's expiry, but never past the
//! session's absolute end, counted from its sign-in (or a phone's enrollment).

use chrono::{DateTime, Duration, Utc};

/// A staff member signs in again at least weekly.
pub const STAFF_SESSION_MAX: Duration = Duration::days(7);
/// A phone is enrolled again after about half a year, well past any recovery followed.
pub const PATIENT_SESSION_MAX: Duration = Duration::days(180);

/// The longest a session lasts, for a patient's phone or a staff member.
pub fn session_max(is_patient: bool) -> Duration {
    if is_patient {
        PATIENT_SESSION_MAX
    } else {
        STAFF_SESSION_MAX
    }
}

/// When a refresh token issued `now`, in a session that began at `started`, expires: `ttl` from
/// now, but no later than the session's absolute end.
pub fn refresh_expiry(
    now: DateTime<Utc>,
    ttl: Duration,
    started: DateTime<Utc>,
    most: Duration,
) -> DateTime<Utc> {
    (now + ttl).min(started + most)
}

/// The kind of client, from a `User-Agent`: its first product (`okhttp/4.12`, `Mozilla/5.0`), at
/// most 60 printable ASCII characters; None when it says nothing usable.
pub fn client_kind(user_agent: &str) -> Option<String> {
    let first = user_agent.split_whitespace().next()?;
    let kind: String = first
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(60)
        .collect();
    (!kind.is_empty()).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshing_slides_until_the_absolute_end() {
        let started = Utc::now();
        let ttl = Duration::hours(12);
        // Six days in, the sliding expiry still fits.
        let day6 = started + Duration::days(6);
        assert_eq!(
            refresh_expiry(day6, ttl, started, STAFF_SESSION_MAX),
            day6 + ttl
        );
        // Later, it is cut at seven days from the sign-in.
        let late = started + Duration::days(7) - Duration::hours(1);
        assert_eq!(
            refresh_expiry(late, ttl, started, STAFF_SESSION_MAX),
            started + STAFF_SESSION_MAX
        );
    }

    #[test]
    fn client_kinds() {
        assert_eq!(
            client_kind("Mozilla/5.0 (X11; Linux x86_64)").as_deref(),
            Some("Mozilla/5.0")
        );
        assert_eq!(
            client_kind("okhttp/4.12.0").as_deref(),
            Some("okhttp/4.12.0")
        );
        assert_eq!(client_kind("   "), None);
        assert_eq!(client_kind(&"x".repeat(500)).map(|k| k.len()), Some(60));
    }
}
